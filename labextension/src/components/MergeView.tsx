/**
 * A side-by-side diff of two texts with CodeMirror's merge view, themed like
 * JupyterLab's editors and read-only.
 */
import { jupyterTheme } from '@jupyterlab/codemirror';
import { MergeView } from '@codemirror/merge';
import { EditorState, Extension } from '@codemirror/state';
import { EditorView, lineNumbers } from '@codemirror/view';
import * as React from 'react';

export interface IMergeViewProps {
  a: string;
  b: string;
  labelA: string;
  labelB: string;
}

function sideExtensions(label: string): Extension[] {
  return [
    lineNumbers(),
    EditorView.lineWrapping,
    EditorView.editable.of(false),
    EditorState.readOnly.of(true),
    EditorView.contentAttributes.of({ 'aria-label': label }),
    jupyterTheme
  ];
}

export function DiffMergeView(props: IMergeViewProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);

  React.useEffect(() => {
    if (!host.current) {
      return;
    }
    const view = new MergeView({
      a: { doc: props.a, extensions: sideExtensions(props.labelA) },
      b: { doc: props.b, extensions: sideExtensions(props.labelB) },
      parent: host.current,
      highlightChanges: true,
      gutter: true,
      collapseUnchanged: { margin: 3, minSize: 8 }
    });
    return () => view.destroy();
  }, [props.a, props.b, props.labelA, props.labelB]);

  return (
    <div className="jp-llmlab-merge">
      <div className="jp-llmlab-merge-headers" aria-hidden="true">
        <div className="jp-llmlab-merge-header">{props.labelA}</div>
        <div className="jp-llmlab-merge-header">{props.labelB}</div>
      </div>
      <div ref={host} className="jp-llmlab-merge-host" />
    </div>
  );
}
