/**
 * The Versions tab of a prompt: the version history on the left and the
 * selected version (template or messages, variables, model, parameters) on
 * the right, with actions to insert, diff or edit from it.
 */
import * as React from 'react';

import type { IPrompt, IPromptVersion } from '../types';
import { IPromptRef } from '../utils';
import { formatDate } from '../utils';
import { LabelChips, TextBlock } from './common';

export interface IVersionsTabProps {
  prompt: IPrompt;
  versions: IPromptVersion[];
  selected: number | null;
  onSelect: (number: number) => void;
  onInsert: (ref: IPromptRef) => void;
  onDiff: (a: number, b: number) => void;
  onEditFrom: (version: IPromptVersion) => void;
}

export function VersionsTab(props: IVersionsTabProps): JSX.Element {
  const { prompt, versions, selected, onSelect } = props;
  const current =
    versions.find(v => v.number === selected) ?? versions[0] ?? null;
  const listRef = React.useRef<HTMLUListElement>(null);

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (!current) {
      return;
    }
    const index = versions.indexOf(current);
    let next = -1;
    if (event.key === 'ArrowDown') {
      next = Math.min(versions.length - 1, index + 1);
    } else if (event.key === 'ArrowUp') {
      next = Math.max(0, index - 1);
    }
    if (next >= 0) {
      event.preventDefault();
      onSelect(versions[next].number);
      const buttons = listRef.current?.querySelectorAll('button');
      (buttons?.[next] as HTMLButtonElement | undefined)?.focus();
    }
  };

  return (
    <div className="jp-llmlab-split">
      <ul
        ref={listRef}
        className="jp-llmlab-versions"
        aria-label={`Versions of ${prompt.name}`}
        onKeyDown={onKeyDown}
      >
        {versions.map(version => (
          <li key={version.number}>
            <button
              type="button"
              className={
                'jp-llmlab-version' +
                (current && version.number === current.number
                  ? ' jp-mod-selected'
                  : '')
              }
              aria-pressed={current?.number === version.number}
              aria-label={`Version ${version.number}`}
              onClick={() => onSelect(version.number)}
            >
              <span className="jp-llmlab-version-top">
                <span className="jp-llmlab-version-number">{`v${version.number}`}</span>
                <LabelChips labels={version.labels} />
              </span>
              <span className="jp-llmlab-version-message">
                {version.message || '(no message)'}
              </span>
              <span className="jp-llmlab-version-meta">
                {`${version.created_by} · ${formatDate(version.created_at)}`}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {current ? (
        <VersionDetail
          prompt={prompt}
          version={current}
          onInsert={props.onInsert}
          onDiff={props.onDiff}
          onEditFrom={props.onEditFrom}
        />
      ) : (
        <div className="jp-llmlab-empty">No versions yet.</div>
      )}
    </div>
  );
}

export function VersionDetail(props: {
  prompt: IPrompt;
  version: IPromptVersion;
  onInsert: (ref: IPromptRef) => void;
  onDiff: (a: number, b: number) => void;
  onEditFrom: (version: IPromptVersion) => void;
}): JSX.Element {
  const { prompt, version } = props;
  const ref = { project: prompt.project, name: prompt.name };
  return (
    <section
      className="jp-llmlab-detail"
      aria-label={`Version ${version.number}`}
    >
      <header className="jp-llmlab-detail-header">
        <h3 className="jp-llmlab-detail-title">{`${prompt.name} v${version.number}`}</h3>
        <LabelChips labels={version.labels} />
      </header>
      <dl className="jp-llmlab-meta">
        <dt>Author</dt>
        <dd>{version.created_by}</dd>
        <dt>Date</dt>
        <dd title={version.created_at}>{formatDate(version.created_at)}</dd>
        <dt>Message</dt>
        <dd className="jp-llmlab-version-message-full">
          {version.message || '(no message)'}
        </dd>
        <dt>Model</dt>
        <dd>{version.model ?? '(none)'}</dd>
        <dt>Variables</dt>
        <dd>
          {version.variables.length === 0
            ? '(none)'
            : version.variables.map(name => (
                <code key={name} className="jp-llmlab-var">
                  {name}
                </code>
              ))}
        </dd>
        <dt>Hash</dt>
        <dd title={version.content_hash}>
          <code>
            {version.content_hash.replace(/^sha256:/, '').slice(0, 12)}
          </code>
          {version.parent ? ` · parent v${version.parent}` : ''}
        </dd>
      </dl>
      <div className="jp-llmlab-toolbar jp-llmlab-actions">
        <button
          type="button"
          className="jp-llmlab-button jp-mod-accept"
          aria-label={`Insert ${prompt.name} version ${version.number} into the notebook`}
          onClick={() => props.onInsert({ ...ref, version: version.number })}
        >
          Insert into notebook
        </button>
        {version.labels.map(label => (
          <button
            key={label}
            type="button"
            className="jp-llmlab-button"
            aria-label={`Insert ${prompt.name} by label ${label} into the notebook`}
            onClick={() => props.onInsert({ ...ref, label })}
          >
            {`Insert by label “${label}”`}
          </button>
        ))}
        {version.number > 1 && (
          <button
            type="button"
            className="jp-llmlab-button"
            aria-label={`Diff version ${version.number - 1} and ${version.number}`}
            onClick={() => props.onDiff(version.number - 1, version.number)}
          >
            Diff with previous
          </button>
        )}
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label={`New version from version ${version.number}`}
          onClick={() => props.onEditFrom(version)}
        >
          Edit as new version
        </button>
      </div>
      <h4 className="jp-llmlab-subtitle">
        {version.kind === 'chat' ? 'Messages' : 'Template'}
      </h4>
      {typeof version.template === 'string' ? (
        <TextBlock text={version.template} label="Template" />
      ) : (
        <ol className="jp-llmlab-messages">
          {version.template.map((message, index) => (
            <li key={index} className="jp-llmlab-message">
              <div className="jp-llmlab-message-role">{message.role}</div>
              <TextBlock
                text={message.content}
                label={`Message ${index + 1} (${message.role})`}
              />
            </li>
          ))}
        </ol>
      )}
      <h4 className="jp-llmlab-subtitle">Parameters</h4>
      <TextBlock
        text={
          Object.keys(version.params ?? {}).length === 0
            ? '{}'
            : JSON.stringify(version.params, null, 2)
        }
        label="Parameters"
      />
    </section>
  );
}
