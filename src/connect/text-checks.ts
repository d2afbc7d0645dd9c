/**
 * Checks shared by the outcome validation and the payload schema. Every length here counts
 * Unicode code points, as `Array.from(text).length` does and as JSON Schema's `maxLength`
 * does, so a receiver that validates the payload with JSON Schema counts the same way.
 */

/** Counts the Unicode code points of `text`. A lone surrogate counts as one. */
export function countCodePoints(text: string): number {
  let count = 0;

  for (let index = 0; index < text.length; index++) {
    const unit = text.charCodeAt(index);

    if (unit >= 0xd800 && unit <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);

      if (next >= 0xdc00 && next <= 0xdfff) {
        index++;
      }
    }

    count++;
  }

  return count;
}

/** Returns the first `count` code points of `text`. */
export function firstCodePoints(text: string, count: number): string {
  let end = 0;

  for (let taken = 0; taken < count && end < text.length; taken++) {
    const codePoint = text.codePointAt(end) ?? 0;
    end += codePoint > 0xffff ? 2 : 1;
  }

  return text.slice(0, end);
}

// With the `u` flag a valid surrogate pair is read as one code point, so only a lone
// surrogate falls in this range.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const C0_CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const C0_CONTROL_EXCEPT_LINE_BREAKS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Bidirectional marks, embeddings, overrides and isolates, which can reorder what is shown. */
const BIDI_CONTROL = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

export interface TextRules {
  min?: number;
  max: number;
  /** Allows tab, line feed and carriage return among the C0 control characters. */
  allowLineBreaks?: boolean;
  /**
   * Rejects bidirectional control characters, for codes that dashboards show and group by,
   * where a reordered display would make one code look like another.
   */
  rejectBidiControls?: boolean;
}

/**
 * Checks length, UTF-16 well-formedness and control characters (C0, DEL and C1). Returns a message without
 * a field name, or undefined when `text` passes. The message never quotes `text`.
 */
export function checkText(text: string, rules: TextRules): string | undefined {
  const length = countCodePoints(text);

  if (length > rules.max) {
    return `expected at most ${rules.max} characters, received ${length}`;
  }

  if (rules.min !== undefined && length < rules.min) {
    return `expected at least ${rules.min} characters, received ${length}`;
  }

  const surrogate = LONE_SURROGATE.exec(text);

  if (surrogate !== null) {
    const index = surrogate.index;
    return `expected well-formed Unicode text, received a lone surrogate at index ${index}`;
  }

  const control = (
    rules.allowLineBreaks === true ? C0_CONTROL_EXCEPT_LINE_BREAKS : C0_CONTROL
  ).exec(text);

  if (control !== null) {
    const codePoint = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `expected no control characters, received U+${codePoint} at index ${control.index}`;
  }

  const bidi = rules.rejectBidiControls === true ? BIDI_CONTROL.exec(text) : null;

  if (bidi !== null) {
    const codePoint = bidi[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `expected no bidirectional control characters, received U+${codePoint} at index ${bidi.index}`;
  }

  return undefined;
}
