/**
 * The Prompts panel of the sidebar: search, label filter, sort, and a
 * virtualised list that pages in more prompts as it scrolls.
 */
import * as React from 'react';

import type { PromptSort } from '../api';
import type { LlmLabModel } from '../model';
import type { IPrompt } from '../types';
import { formatDate } from '../utils';
import { ErrorBanner, LabelChips, useLatest, useReloadCount } from './common';
import { VirtualList } from './VirtualList';

const ROW_HEIGHT = 48;
const COMMON_LABELS = ['production', 'staging'];

export interface IPromptListProps {
  model: LlmLabModel;
  project: string;
  onOpen: (prompt: IPrompt) => void;
  onNew: () => void;
}

export function PromptList(props: IPromptListProps): JSX.Element {
  const { model, project, onOpen, onNew } = props;
  const [search, setSearch] = React.useState('');
  const [query, setQuery] = React.useState('');
  const [label, setLabel] = React.useState('');
  const [sort, setSort] = React.useState<PromptSort>('name');
  const [items, setItems] = React.useState<IPrompt[]>([]);
  const [nextOffset, setNextOffset] = React.useState<number | null>(0);
  const [loading, setLoading] = React.useState(false);
  const [error, setError] = React.useState<unknown>(null);
  const [selected, setSelected] = React.useState(-1);
  // reload after saves and on the refresh command
  const reloadCount = useReloadCount(model, project, 'prompt');
  const [knownLabels, setKnownLabels] = React.useState<string[]>(COMMON_LABELS);
  const latest = useLatest();
  const loadingRef = React.useRef(false);

  // debounce typing in the search box
  React.useEffect(() => {
    const timer = window.setTimeout(() => setQuery(search.trim()), 250);
    return () => window.clearTimeout(timer);
  }, [search]);

  const fetchPage = React.useCallback(
    async (offset: number, isCurrent: () => boolean) => {
      if (!project) {
        return;
      }
      loadingRef.current = true;
      setLoading(true);
      try {
        const page = await model.client.listPrompts(project, {
          search: query || undefined,
          label: label || undefined,
          sort,
          offset,
          limit: model.settings.pageSize
        });
        if (!isCurrent()) {
          return;
        }
        setItems(previous =>
          offset === 0 ? page.items : previous.concat(page.items)
        );
        setNextOffset(page.items.length > 0 ? page.next_offset : null);
        setError(null);
        setKnownLabels(previous => {
          const all = new Set(previous);
          page.items.forEach(p =>
            Object.keys(p.labels).forEach(l => all.add(l))
          );
          return all.size === previous.length ? previous : [...all].sort();
        });
      } catch (err) {
        if (isCurrent()) {
          setError(err);
          setNextOffset(null);
        }
      } finally {
        if (isCurrent()) {
          loadingRef.current = false;
          setLoading(false);
        }
      }
    },
    [model, project, query, label, sort]
  );

  // (re)load from the first page whenever the query changes
  const currentRef = React.useRef<() => boolean>(() => true);
  React.useEffect(() => {
    const isCurrent = latest();
    currentRef.current = isCurrent;
    setSelected(-1);
    void fetchPage(0, isCurrent);
  }, [fetchPage, reloadCount, latest]);

  const onNearEnd = React.useCallback(() => {
    if (nextOffset !== null && nextOffset > 0 && !loadingRef.current) {
      void fetchPage(nextOffset, currentRef.current);
    }
  }, [nextOffset, fetchPage]);

  const renderRow = (index: number) => {
    const prompt = items[index];
    return (
      <div
        className="jp-llmlab-PromptRow"
        title={prompt.description || prompt.name}
      >
        <div className="jp-llmlab-PromptRow-top">
          <span className="jp-llmlab-PromptRow-name">{prompt.name}</span>
          <span className="jp-llmlab-badge" title={`${prompt.kind} prompt`}>
            {prompt.kind}
          </span>
          <span className="jp-llmlab-PromptRow-version">
            {`v${prompt.latest_version}`}
          </span>
        </div>
        <div className="jp-llmlab-PromptRow-bottom">
          <LabelChips labels={Object.keys(prompt.labels).sort()} />
          <span className="jp-llmlab-PromptRow-desc">
            {prompt.description || formatDate(prompt.updated_at)}
          </span>
        </div>
      </div>
    );
  };

  const countText =
    items.length === 0
      ? loading
        ? 'Loading…'
        : 'No prompts'
      : `${items.length}${nextOffset !== null ? '+' : ''} prompt${items.length === 1 ? '' : 's'}`;

  return (
    <div className="jp-llmlab-PromptList">
      <div className="jp-llmlab-toolbar">
        <input
          type="search"
          className="jp-llmlab-input jp-llmlab-grow"
          placeholder="Search prompts"
          aria-label="Search prompts"
          value={search}
          onChange={event => setSearch(event.target.value)}
        />
        <button
          type="button"
          className="jp-llmlab-button jp-mod-accept"
          aria-label="New prompt"
          title="New prompt"
          onClick={onNew}
          disabled={!project}
        >
          + New
        </button>
      </div>
      <div className="jp-llmlab-toolbar">
        <select
          className="jp-llmlab-select jp-llmlab-grow"
          aria-label="Filter by label"
          value={label}
          onChange={event => setLabel(event.target.value)}
        >
          <option value="">Any label</option>
          {knownLabels.map(name => (
            <option key={name} value={name}>
              {`Label: ${name}`}
            </option>
          ))}
        </select>
        <select
          className="jp-llmlab-select"
          aria-label="Sort prompts"
          value={sort}
          onChange={event => setSort(event.target.value as PromptSort)}
        >
          <option value="name">Name A–Z</option>
          <option value="-name">Name Z–A</option>
          <option value="-updated_at">Recently updated</option>
          <option value="updated_at">Least recently updated</option>
        </select>
      </div>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="jp-llmlab-count" aria-live="polite">
        {countText}
      </div>
      <VirtualList
        className="jp-llmlab-grow"
        itemCount={items.length}
        rowHeight={ROW_HEIGHT}
        renderRow={renderRow}
        idPrefix={`jp-llmlab-prompt-${project}`}
        selectedIndex={selected}
        onSelect={setSelected}
        onActivate={index => onOpen(items[index])}
        onNearEnd={onNearEnd}
        ariaLabel="Prompts"
      />
    </div>
  );
}
