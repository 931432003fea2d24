/**
 * What the lab is still being built to do, stated as plans: nothing in this list is usable from
 * the page yet (what is usable is on the page above it, not here).
 */

interface Plan {
  readonly title: string;
  readonly text: string;
}

const PLANS: readonly Plan[] = [
  { title: 'Images from a URL', text: 'disk images and their parent chains read with HTTP range requests.' },
  { title: 'More of the stack on the page', text: 'OPFS layers, striping, SCSI-3 persistent reservations.' },
  { title: 'Long jobs', text: 'export, convert, commit, stream, mirror and backup, with pause and cancel.' },
];

export function Roadmap() {
  return (
    <section className="panel roadmap" aria-labelledby="roadmap-title">
      <h2 id="roadmap-title">Planned</h2>
      <ul className="plans small">
        {PLANS.map((plan) => (
          <li key={plan.title}>
            <strong>{plan.title}:</strong> {plan.text}
          </li>
        ))}
      </ul>
    </section>
  );
}
