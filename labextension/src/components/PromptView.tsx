/**
 * One prompt in the main area: Versions, Diff, Edit and Labels tabs.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import * as React from 'react';

import type { LlmLabModel } from '../model';
import { LlmLabAPIError } from '../request';
import type { IPrompt, IPromptVersion } from '../types';
import type { IPromptRef } from '../utils';
import { DiffTab } from './DiffTab';
import { EditorTab } from './EditorTab';
import { LabelsTab } from './LabelsTab';
import { ErrorBanner, Loading, TabBar, useLatest } from './common';
import { VersionsTab } from './VersionDetail';

export type PromptTab = 'versions' | 'diff' | 'edit' | 'labels';

/** A request from a command to show a tab (a new object each time). */
export interface IViewRequest {
  tab: PromptTab;
  a?: number;
  b?: number;
}

export interface IPromptViewProps {
  model: LlmLabModel;
  editorServices: IEditorServices;
  project: string;
  /** null: a new prompt, named in the editor. */
  name: string | null;
  request: IViewRequest | null;
  onInsert: (ref: IPromptRef) => void;
  /** A new prompt got its name (first save). */
  onNamed: (name: string) => void;
}

const TABS: { id: PromptTab; label: string }[] = [
  { id: 'versions', label: 'Versions' },
  { id: 'diff', label: 'Diff' },
  { id: 'edit', label: 'New version' },
  { id: 'labels', label: 'Labels' }
];

export function PromptView(props: IPromptViewProps): JSX.Element {
  const { model, project, name } = props;
  const [prompt, setPrompt] = React.useState<IPrompt | null>(null);
  const [versions, setVersions] = React.useState<IPromptVersion[]>([]);
  const [loading, setLoading] = React.useState(name !== null);
  const [error, setError] = React.useState<unknown>(null);
  const [tab, setTab] = React.useState<PromptTab>(
    name === null ? 'edit' : (props.request?.tab ?? 'versions')
  );
  const [selected, setSelected] = React.useState<number | null>(null);
  const [diffPair, setDiffPair] = React.useState<
    [number | null, number | null]
  >([props.request?.a ?? null, props.request?.b ?? null]);
  const [editBase, setEditBase] = React.useState<IPromptVersion | null>(null);
  const latest = useLatest();

  const load = React.useCallback(
    async (select?: number) => {
      if (name === null) {
        return;
      }
      const isCurrent = latest();
      setLoading(true);
      try {
        const [info, all] = await Promise.all([
          model.client.getPrompt(project, name),
          model.client.allVersions(project, name)
        ]);
        if (!isCurrent()) {
          return;
        }
        setPrompt(info);
        setVersions(all);
        setError(null);
        if (select !== undefined) {
          setSelected(select);
        }
        setEditBase(previous =>
          previous && all.some(v => v.number === previous.number)
            ? previous
            : (all[0] ?? null)
        );
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
    [model, project, name, latest]
  );

  React.useEffect(() => {
    void load();
  }, [load]);

  // commands (diff, move label, edit) asking for a tab
  React.useEffect(() => {
    if (props.request && name !== null) {
      setTab(props.request.tab);
      if (props.request.a !== undefined || props.request.b !== undefined) {
        setDiffPair([props.request.a ?? null, props.request.b ?? null]);
      }
    }
  }, [props.request, name]);

  // reload when another view saved this prompt
  React.useEffect(() => {
    const onChanged = (
      _: unknown,
      change: { kind: string; project: string; name?: string }
    ) => {
      if (
        change.kind === 'prompt' &&
        change.project === project &&
        change.name === name
      ) {
        void load();
      }
    };
    model.changed.connect(onChanged);
    return () => {
      model.changed.disconnect(onChanged);
    };
  }, [model, project, name, load]);

  const onSaved = (savedName: string, version: number) => {
    if (name === null) {
      props.onNamed(savedName);
      return;
    }
    setEditBase(null);
    void load(version).then(() => setTab('versions'));
  };

  if (name === null) {
    return (
      <div className="jp-llmlab-PromptView">
        <header className="jp-llmlab-PromptView-header">
          <h2 className="jp-llmlab-title">{`New prompt in ${project}`}</h2>
        </header>
        <EditorTab
          model={model}
          editorServices={props.editorServices}
          project={project}
          name={null}
          description=""
          base={null}
          onSaved={onSaved}
        />
      </div>
    );
  }

  const notFound =
    error instanceof LlmLabAPIError && error.status === 404 && !prompt;

  return (
    <div className="jp-llmlab-PromptView">
      <header className="jp-llmlab-PromptView-header">
        <h2 className="jp-llmlab-title">{name}</h2>
        {prompt && (
          <span className="jp-llmlab-PromptView-sub">
            {`${project} · ${prompt.kind} · ${prompt.latest_version} version${prompt.latest_version === 1 ? '' : 's'}`}
          </span>
        )}
        {prompt?.description && (
          <p className="jp-llmlab-PromptView-desc">{prompt.description}</p>
        )}
      </header>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {loading && !prompt && <Loading what={name} />}
      {prompt && !notFound && (
        <>
          <TabBar<PromptTab>
            tabs={TABS}
            current={tab}
            onChange={setTab}
            idPrefix={`jp-llmlab-${project}-${name}`}
            ariaLabel={`Prompt ${name}`}
          />
          <div
            className="jp-llmlab-tabpanel"
            role="tabpanel"
            id={`jp-llmlab-${project}-${name}-panel-${tab}`}
            aria-labelledby={`jp-llmlab-${project}-${name}-tab-${tab}`}
          >
            {tab === 'versions' && (
              <VersionsTab
                prompt={prompt}
                versions={versions}
                selected={selected}
                onSelect={setSelected}
                onInsert={props.onInsert}
                onDiff={(a, b) => {
                  setDiffPair([a, b]);
                  setTab('diff');
                }}
                onEditFrom={version => {
                  setEditBase(version);
                  setTab('edit');
                }}
              />
            )}
            {tab === 'diff' && (
              <DiffTab
                versions={versions}
                a={diffPair[0]}
                b={diffPair[1]}
                onChange={(a, b) => setDiffPair([a, b])}
              />
            )}
            {tab === 'edit' && (
              <EditorTab
                model={model}
                editorServices={props.editorServices}
                project={project}
                name={name}
                description={prompt.description}
                base={editBase ?? versions[0] ?? null}
                onSaved={onSaved}
              />
            )}
            {tab === 'labels' && (
              <LabelsTab
                model={model}
                prompt={prompt}
                versions={versions}
                onChanged={() => void load()}
              />
            )}
          </div>
        </>
      )}
    </div>
  );
}
