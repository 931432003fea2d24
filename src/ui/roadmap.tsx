/**
 * What the lab is being built to do, stated as plans: nothing in this list is usable from the page
 * yet, and the panel says so rather than showing controls that do nothing.
 */

interface Plan {
  readonly title: string;
  readonly text: string;
}

const PLANS: readonly Plan[] = [
  { title: 'Open real images', text: 'VHD (fixed, dynamic, differencing), VHDX, qcow2 and raw, from a dropped file or a URL read with range requests.' },
  { title: 'Stack copy-on-write layers', text: 'RAM and OPFS layers over a base image, with a map of which layer holds which block.' },
  { title: 'Decorate the stack', text: 'Striping, XTS-AES-256 encryption, added latency, injected faults, SCSI-3 persistent reservations, metering.' },
  { title: 'Drive it like a guest', text: 'An NVMe-shaped controller in shared memory, and fio-like jobs with live queue depth and latency histograms.' },
  { title: 'Run long jobs', text: 'Import, export, convert, commit, stream, mirror and backup, with progress, pause and cancel.' },
  { title: 'Same engine on the command line', text: 'A qemu-img-like disklab CLI in Node over the same core.' },
];

export function Roadmap() {
  return (
    <section className="panel" aria-labelledby="roadmap-title">
      <h2 id="roadmap-title">Planned</h2>
      <p className="muted">Not available on this page yet.</p>
      <ul className="plans">
        {PLANS.map((plan) => (
          <li key={plan.title}>
            <strong>{plan.title}.</strong> {plan.text}
          </li>
        ))}
      </ul>
    </section>
  );
}
