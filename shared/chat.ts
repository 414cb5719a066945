/** Chat rules both sides agree on. */
type Status = 'invited' | 'accepted' | 'declined' | 'left';

/**
 * A chat's state follows from its members: active while two or more take part, pending while
 * someone is still invited, closed for good when nobody takes part or nobody else can join.
 */
export function chatStateOf(statuses: Iterable<Status>): 'pending' | 'active' | 'closed' {
  let accepted = 0;
  let invited = 0;
  for (const s of statuses) {
    if (s === 'accepted') accepted++;
    else if (s === 'invited') invited++;
  }
  if (accepted >= 2) return 'active';
  if (accepted === 0 || invited === 0) return 'closed';
  return 'pending';
}
