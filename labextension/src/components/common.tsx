/**
 * Small shared pieces: an error banner, label chips, a tab bar, a spinner.
 * Everything renders user data as React text nodes only.
 */
import * as React from 'react';

import type { IChange, LlmLabModel } from '../model';
import { errorMessage } from '../request';
import type { IPage } from '../types';

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

/** A paged listing of one kind of resource of a project (see `usePagedList`). */
export interface IPagedList<T> {
  items: T[];
  setItems: React.Dispatch<React.SetStateAction<T[]>>;
  nextOffset: number | null;
  error: unknown;
  setError: (error: unknown) => void;
  loading: boolean;
  /** Load the page at `offset` (0 replaces the items, later pages append). */
  load: (offset: number) => Promise<void>;
}

/**
 * The items of a project listing, page by page: loaded when shown, and
 * again when the model reports a change of `kind` in this project (then
 * `onChange` is called too) or a refresh is asked for. A reply that arrives
 * after a newer request is dropped.
 */
export function usePagedList<T>(
  model: LlmLabModel,
  project: string,
  kind: IChange['kind'],
  fetchPage: (
    project: string,
    page: { offset: number; limit: number }
  ) => Promise<IPage<T>>,
  onChange?: (change: IChange) => void
): IPagedList<T> {
  const [items, setItems] = React.useState<T[]>([]);
  const [nextOffset, setNextOffset] = React.useState<number | null>(null);
  const [error, setError] = React.useState<unknown>(null);
  const [loading, setLoading] = React.useState(false);
  const reloadCount = useReloadCount(model, project, kind, onChange);
  const latest = useLatest();
  const fetchRef = React.useRef(fetchPage);
  fetchRef.current = fetchPage;

  const load = React.useCallback(
    async (offset: number) => {
      if (!project) {
        return;
      }
      const isCurrent = latest();
      setLoading(true);
      try {
        const page = await fetchRef.current(project, {
          offset,
          limit: model.settings.pageSize
        });
        if (isCurrent()) {
          setItems(previous =>
            offset === 0 ? page.items : previous.concat(page.items)
          );
          setNextOffset(page.items.length > 0 ? page.next_offset : null);
          setError(null);
        }
      } catch (err) {
        if (isCurrent()) {
          setError(err);
        }
      } finally {
        if (isCurrent()) {
          setLoading(false);
        }
      }
    },
    [model, project, latest]
  );

  React.useEffect(() => {
    void load(0);
  }, [load, reloadCount]);

  return { items, setItems, nextOffset, error, setError, loading, load };
}

/**
 * A count that goes up whenever the model reports a change of `kind` in
 * `project` (then `onChange` is called too) or a refresh is asked for: put it
 * in the dependencies of the effect that loads the data.
 */
export function useReloadCount(
  model: LlmLabModel,
  project: string,
  kind: IChange['kind'],
  onChange?: (change: IChange) => void
): number {
  const [reloadCount, setReloadCount] = React.useState(0);
  const onChangeRef = React.useRef(onChange);
  onChangeRef.current = onChange;
  React.useEffect(() => {
    const onChanged = (_: unknown, change: IChange) => {
      if (change.kind === kind && change.project === project) {
        onChangeRef.current?.(change);
        setReloadCount(count => count + 1);
      }
    };
    const onRefresh = () => setReloadCount(count => count + 1);
    model.changed.connect(onChanged);
    model.refreshRequested.connect(onRefresh);
    return () => {
      model.changed.disconnect(onChanged);
      model.refreshRequested.disconnect(onRefresh);
    };
  }, [model, project, kind]);
  return reloadCount;
}

/**
 * Previous / next buttons and "Rows 1–50 of 120" for an offset-paged table;
 * `noun` is the plural shown ("rows", "results").
 */
export function Pager(props: {
  noun: string;
  offset: number;
  pageSize: number;
  page: { items: unknown[]; total: number; next_offset: number | null } | null;
  onOffset: (offset: number) => void;
}): JSX.Element {
  const { noun, offset, pageSize, page, onOffset } = props;
  const title = noun.charAt(0).toUpperCase() + noun.slice(1);
  return (
    <div className="jp-llmlab-toolbar">
      <button
        type="button"
        className="jp-llmlab-button"
        aria-label={`Previous ${noun}`}
        disabled={offset === 0}
        onClick={() => onOffset(Math.max(0, offset - pageSize))}
      >
        ‹ Previous
      </button>
      <span className="jp-llmlab-count" aria-live="polite">
        {page
          ? `${title} ${page.total === 0 ? 0 : offset + 1}–${offset + page.items.length} of ${page.total}`
          : ''}
      </span>
      <button
        type="button"
        className="jp-llmlab-button"
        aria-label={`Next ${noun}`}
        disabled={!page || page.next_offset === null}
        onClick={() => onOffset(offset + pageSize)}
      >
        Next ›
      </button>
    </div>
  );
}
