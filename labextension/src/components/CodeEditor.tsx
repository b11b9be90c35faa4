/**
 * A CodeMirror editor from JupyterLab's own editor factory (same theme,
 * key bindings and settings as notebook cells), wrapped for React.
 */
import { CodeEditor, IEditorServices } from '@jupyterlab/codeeditor';
import { EditorView } from '@codemirror/view';
import * as React from 'react';

export interface ITemplateEditorProps {
  editorServices: IEditorServices;
  /** The initial text; later changes of this prop replace the text. */
  value: string;
  onChange: (value: string) => void;
  ariaLabel: string;
  /** 1-based line to mark as erroneous, if any. */
  errorLine?: number | null;
  mimeType?: string;
}

export function TemplateEditor(props: ITemplateEditorProps): JSX.Element {
  const host = React.useRef<HTMLDivElement>(null);
  const editor = React.useRef<CodeEditor.IEditor | null>(null);
  const onChange = React.useRef(props.onChange);
  onChange.current = props.onChange;

  React.useEffect(() => {
    if (!host.current) {
      return;
    }
    const model = new CodeEditor.Model({
      mimeType: props.mimeType ?? 'text/plain'
    });
    model.sharedModel.setSource(props.value);
    const instance = props.editorServices.factoryService.newInlineEditor({
      host: host.current,
      model,
      config: { lineNumbers: true, lineWrap: true, autoClosingBrackets: false },
      extensions: [
        EditorView.contentAttributes.of({ 'aria-label': props.ariaLabel })
      ]
    });
    editor.current = instance;
    const changed = () => onChange.current(model.sharedModel.getSource());
    model.sharedModel.changed.connect(changed);
    return () => {
      model.sharedModel.changed.disconnect(changed);
      editor.current = null;
      instance.dispose();
      model.dispose();
    };
    // the editor is created once; `value` changes are applied below
  }, [props.editorServices]);

  React.useEffect(() => {
    const current = editor.current;
    if (current && current.model.sharedModel.getSource() !== props.value) {
      current.model.sharedModel.setSource(props.value);
    }
  }, [props.value]);

  return (
    <div
      ref={host}
      className={
        'jp-llmlab-editor' + (props.errorLine ? ' jp-llmlab-editor-error' : '')
      }
    />
  );
}
