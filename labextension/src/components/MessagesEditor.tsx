/**
 * The Edit tab's chat messages: one role and one content editor per message,
 * with buttons to remove a message and to add one.
 */
import { IEditorServices } from '@jupyterlab/codeeditor';
import * as React from 'react';

import { IChatMessage, MESSAGE_ROLES, MessageRole } from '../types';
import { TemplateEditor } from './CodeEditor';
import type { IDraft } from './editorDraft';

export interface IMessagesEditorProps {
  editorServices: IEditorServices;
  messages: IChatMessage[];
  setDraft: React.Dispatch<React.SetStateAction<IDraft>>;
}

export function MessagesEditor(props: IMessagesEditorProps): JSX.Element {
  const { setDraft } = props;

  const updateMessage = (index: number, change: Partial<IChatMessage>) => {
    setDraft(previous => ({
      ...previous,
      messages: previous.messages.map((m, i) =>
        i === index ? { ...m, ...change } : m
      )
    }));
  };

  return (
    <ol className="jp-llmlab-messages">
      {props.messages.map((msg, index) => (
        <li key={index} className="jp-llmlab-message">
          <div className="jp-llmlab-toolbar">
            <select
              className="jp-llmlab-select"
              aria-label={`Role of message ${index + 1}`}
              value={msg.role}
              onChange={event =>
                updateMessage(index, {
                  role: event.target.value as MessageRole
                })
              }
            >
              {MESSAGE_ROLES.map(role => (
                <option key={role} value={role}>
                  {role}
                </option>
              ))}
            </select>
            <span className="jp-llmlab-grow" />
            <button
              type="button"
              className="jp-llmlab-icon-button"
              aria-label={`Remove message ${index + 1}`}
              title="Remove message"
              disabled={props.messages.length <= 1}
              onClick={() =>
                setDraft(previous => ({
                  ...previous,
                  messages: previous.messages.filter((_, i) => i !== index)
                }))
              }
            >
              ×
            </button>
          </div>
          <TemplateEditor
            editorServices={props.editorServices}
            value={msg.content}
            onChange={content => updateMessage(index, { content })}
            ariaLabel={`Content of message ${index + 1}`}
          />
        </li>
      ))}
      <li>
        <button
          type="button"
          className="jp-llmlab-button"
          aria-label="Add message"
          onClick={() =>
            setDraft(previous => ({
              ...previous,
              messages: [...previous.messages, { role: 'user', content: '' }]
            }))
          }
        >
          + Message
        </button>
      </li>
    </ol>
  );
}
