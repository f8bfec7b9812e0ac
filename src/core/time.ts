/**
 * The evaluation time handed to `decide()`. The core never reads a clock: callers pass the
 * moment a request is judged. Time windows compare the hour and weekday *as written in the
 * timestamp's own offset* (0.9.0 semantics); a timestamp without an offset is taken as UTC.
 */

export interface EvalTime {
  /** The instant, in milliseconds since the Unix epoch. */
  readonly epochMs: number;
  /** Hour of day 0–23 in the timestamp's own offset. */
  readonly hour: number;
  /** 0 = Monday … 6 = Sunday, in the timestamp's own offset. */
  readonly weekday: number;
}

export function evalTimeFromEpoch(epochMs: number): EvalTime {
  const d = new Date(epochMs);
  return { epochMs, hour: d.getUTCHours(), weekday: (d.getUTCDay() + 6) % 7 };
}

export class TimestampError extends Error {
  override name = "TimestampError";
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 timestamp (`2025-01-31T05:39:45Z`, `…45.123+02:00`, a date alone).
 * Throws `TimestampError` for anything else, including impossible dates.
 */
export function parseTimestamp(text: string): EvalTime {
  return parseCommonTimestamp(text) ?? parseAnyTimestamp(text);
}

const DAY_MS = 86_400_000;

function weekdayOf(localMs: number): number {
  // 1970-01-01 was a Thursday (3 when Monday is 0).
  return (((Math.floor(localMs / DAY_MS) + 3) % 7) + 7) % 7;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function digits(text: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The shape nearly every request carries, `YYYY-MM-DDTHH:MM:SS[.fff]Z`, without a regex. */
function parseCommonTimestamp(text: string): EvalTime | null {
  const n = text.length;
  if (
    n < 20 ||
    text.charCodeAt(n - 1) !== 90 /* Z */ ||
    text[4] !== "-" ||
    text[7] !== "-" ||
    text[10] !== "T"
  )
    return null;
  if (text[13] !== ":" || text[16] !== ":") return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let millis = 0;
  if (n > 20) {
    if (text[19] !== "." || n - 21 > 9) return null;
    const frac = text.slice(20, n - 1);
    const value = digits(frac, 0, frac.length);
    if (value < 0) return null;
    millis = Math.floor(value / 10 ** (frac.length - 3));
  }
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
    return null;
  if (second < 0 || second > 59 || day > daysInMonth(year, month)) return null;
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  return { epochMs, hour, weekday: weekdayOf(epochMs) };
}

function parseAnyTimestamp(text: string): EvalTime {
  const m = ISO.exec(text);
  if (m === null)
    throw new TimestampError(`invalid timestamp '${text}': expected ISO-8601 such as 2025-01-31T05:39:45Z`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) {
    throw new TimestampError(`invalid timestamp '${text}': field out of range`);
  }
  const check = new Date(Date.UTC(2000, 0, 1, hour, minute, second, millis));
  check.setUTCFullYear(year, month - 1, day); // Date.UTC would read years 0-99 as 1900-1999
  const local = check.getTime();
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) {
    throw new TimestampError(`invalid timestamp '${text}': no such date`);
  }
  const offsetMinutes = parseOffset(m[8]);
  return {
    epochMs: local - offsetMinutes * 60_000,
    hour,
    weekday: (check.getUTCDay() + 6) % 7,
  };
}

function parseOffset(text: string | undefined): number {
  if (text === undefined || text === "Z" || text === "z") return 0;
  const sign = text[0] === "-" ? -1 : 1;
  const digits = text.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
  if (hours > 23 || minutes > 59) throw new TimestampError(`invalid UTC offset '${text}'`);
  return sign * (hours * 60 + minutes);
}
