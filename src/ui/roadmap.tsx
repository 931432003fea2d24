/**
 * What the lab is still being built to do, stated as plans: nothing in this list is usable from
 * the page yet (what is usable is on the page above it, not here).
 */

interface Plan {
  readonly title: string;
  readonly text: string;
}

const PLANS: readonly Plan[] = [
  { title: 'Striping and reservations from the stack panel', text: 'today only the lessons build striped disks and reservation hosts.' },
  { title: 'Writing VHDX', text: 'VHDX opens read-only; convert it to VHD or qcow2 to change it.' },
  { title: 'Incremental backups across reloads', text: 'an incremental chain ends when the page reloads; take a full backup again.' },
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
