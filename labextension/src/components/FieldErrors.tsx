/**
 * Errors shown next to the form field they name: the message (an alert with
 * a stable id) and the `aria-invalid`/`aria-describedby` props of its input.
 */
import * as React from 'react';

import type { ExperimentFormField } from '../utils';

export type FieldErrors = Partial<Record<ExperimentFormField, string>>;

export interface IFieldErrorHelpers {
  /** The message for `field`, or `null` when it has none. */
  fieldError: (field: ExperimentFormField) => JSX.Element | null;
  /** Props that mark an input invalid and point it at its message. */
  invalid: (field: ExperimentFormField) => {
    'aria-invalid': boolean | undefined;
    'aria-describedby': string | undefined;
  };
}

/** Helpers for `fieldErrors`; message ids are `${listId}-${field}-error`. */
export function fieldErrorHelpers(
  fieldErrors: FieldErrors,
  listId: string
): IFieldErrorHelpers {
  const fieldError = (field: ExperimentFormField) =>
    fieldErrors[field] ? (
      <div
        className="jp-llmlab-field-error"
        role="alert"
        id={`${listId}-${field}-error`}
      >
        {fieldErrors[field]}
      </div>
    ) : null;

  const invalid = (field: ExperimentFormField) => ({
    'aria-invalid': fieldErrors[field] ? true : undefined,
    'aria-describedby': fieldErrors[field]
      ? `${listId}-${field}-error`
      : undefined
  });

  return { fieldError, invalid };
}
