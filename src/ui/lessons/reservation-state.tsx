/** The reservation lesson's view of the shared disk: registrations, the holder and the last command's outcome. */
import type { ReservationOutcome } from '../../../workers/api.ts';

export function ReservationState({ outcome }: { readonly outcome: ReservationOutcome | undefined; readonly version: number }) {
  return (
    <div className="lesson-pr-state" data-testid="lesson-pr-state" aria-label="Persistent reservations">
      {outcome === undefined ? (
        <p className="small muted">No reservation command yet.</p>
      ) : (
        <dl className="small">
          <dt>Registered</dt>
          <dd data-testid="pr-registrations">{outcome.registrations.length === 0 ? 'nobody' : outcome.registrations.map((r) => `${r.hostId} (key ${r.key})`).join(', ')}</dd>
          <dt>Reservation</dt>
          <dd data-testid="pr-holder">{outcome.reservation ? `${outcome.reservation.holder ?? 'all registrants'}, ${outcome.reservation.type}` : 'none'}</dd>
          <dt>Last command</dt>
          <dd data-testid="pr-last" className={outcome.ok ? '' : 'error'}>
            {outcome.ok ? outcome.message : outcome.message}
          </dd>
          <dt>Generation</dt>
          <dd>{outcome.generation}</dd>
        </dl>
      )}
    </div>
  );
}
