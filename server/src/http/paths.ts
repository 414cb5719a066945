/**
 * Turns the rest of a URL path into file-path segments, one percent-decoded segment at a time,
 * so an encoded slash or dot-dot (..%2F, %2e%2e) is seen for what it is. Empty and "." segments
 * drop out; "..", separators and NUL inside a segment are refused.
 */
export type SafePath = { segments: string[] } | { problem: 'encoding' | 'escape' };

export function safeSegments(rest: string): SafePath {
  const segments: string[] = [];
  for (const part of rest.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return { problem: 'encoding' };
    }
    if (segment === '' || segment === '.') continue;
    if (segment === '..' || /[/\\\0]/.test(segment)) return { problem: 'escape' };
    segments.push(segment);
  }
  return { segments };
}
