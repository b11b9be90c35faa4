/**
 * Small shared pieces: an error banner, label chips, a tab bar, a spinner.
 * Everything renders user data as React text nodes only.
 */
import * as React from 'react';

import { errorMessage } from '../request';

export function ErrorBanner(props: {
  error: unknown;
  onDismiss?: () => void;
}): JSX.Element | null {
  if (props.error === null || props.error === undefined) {
    return null;
  }
  return (
    <div className="jp-llmlab-error" role="alert">
      <span className="jp-llmlab-error-text">{errorMessage(props.error)}</span>
      {props.onDismiss && (
        <button
          type="button"
          className="jp-llmlab-icon-button"
          aria-label="Dismiss error"
          title="Dismiss"
          onClick={props.onDismiss}
        >
          ×
        </button>
      )}
    </div>
  );
}

export function LabelChips(props: {
  labels: string[];
  versions?: Record<string, number>;
}): JSX.Element | null {
  if (props.labels.length === 0) {
    return null;
  }
  return (
    <span className="jp-llmlab-chips">
      {props.labels.map(label => (
        <span
          key={label}
          className={
            'jp-llmlab-chip' +
            (label === 'production' ? ' jp-llmlab-chip-production' : '')
          }
          title={
            props.versions ? `${label} → v${props.versions[label]}` : label
          }
        >
          {props.versions ? `${label}: v${props.versions[label]}` : label}
        </span>
      ))}
    </span>
  );
}

export interface ITab<T extends string> {
  id: T;
  label: string;
}

/** An ARIA tab bar; arrows move between tabs. */
export function TabBar<T extends string>(props: {
  tabs: ITab<T>[];
  current: T;
  onChange: (id: T) => void;
  idPrefix: string;
  ariaLabel: string;
}): JSX.Element {
  const { tabs, current, onChange, idPrefix } = props;
  const refs = React.useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: React.KeyboardEvent, index: number) => {
    let next = -1;
    if (event.key === 'ArrowRight') {
      next = (index + 1) % tabs.length;
    } else if (event.key === 'ArrowLeft') {
      next = (index - 1 + tabs.length) % tabs.length;
    } else if (event.key === 'Home') {
      next = 0;
    } else if (event.key === 'End') {
      next = tabs.length - 1;
    }
    if (next >= 0) {
      event.preventDefault();
      onChange(tabs[next].id);
      refs.current[next]?.focus();
    }
  };
  return (
    <div className="jp-llmlab-tabs" role="tablist" aria-label={props.ariaLabel}>
      {tabs.map((tab, index) => (
        <button
          key={tab.id}
          ref={node => {
            refs.current[index] = node;
          }}
          type="button"
          role="tab"
          id={`${idPrefix}-tab-${tab.id}`}
          aria-selected={tab.id === current}
          aria-controls={`${idPrefix}-panel-${tab.id}`}
          tabIndex={tab.id === current ? 0 : -1}
          className={
            'jp-llmlab-tab' + (tab.id === current ? ' jp-mod-current' : '')
          }
          onClick={() => onChange(tab.id)}
          onKeyDown={event => onKeyDown(event, index)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

export function Loading(props: { what?: string }): JSX.Element {
  return (
    <div className="jp-llmlab-loading" role="status">
      {`Loading${props.what ? ' ' + props.what : ''}…`}
    </div>
  );
}

/** A `<pre>` of untrusted text (prompt text, model output), as text. */
export function TextBlock(props: {
  text: string;
  className?: string;
  label?: string;
}): JSX.Element {
  return (
    <pre
      className={'jp-llmlab-text ' + (props.className ?? '')}
      aria-label={props.label}
    >
      {props.text}
    </pre>
  );
}

/** Run an async effect, ignoring results that arrive after a newer call. */
export function useLatest(): () => () => boolean {
  const counter = React.useRef(0);
  return React.useCallback(() => {
    const mine = ++counter.current;
    return () => mine === counter.current;
  }, []);
}
