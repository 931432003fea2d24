/**
 * The app shell. For now it says what Disk Lab is, checks that this browser can host it, and lists
 * what is planned; panels that open and drive disks arrive with the engine behind them.
 */
import { PlatformCheck } from './platform-check.tsx';
import { Roadmap } from './roadmap.tsx';

export function App() {
  return (
    <div className="app">
      <header className="app-head">
        <h1>Disk Lab</h1>
        <p className="tagline">A storage laboratory in a browser tab.</p>
      </header>
      <main>
        <section className="panel intro" aria-labelledby="about-title">
          <h2 id="about-title">What this is</h2>
          <p>
            Disk Lab is being built to open virtual disk images with real disk backends running in Web Workers,
            stack copy-on-write layers and decorators on top, drive them with an emulated storage controller, and
            show what happens: which layer holds which block, how long each I/O took, what the queue is doing. The
            same engine is to run in Node as a command-line tool.
          </p>
          <p className="notice" data-testid="project-status">
            Early days: the disk engine is being built and tested in Node. This page cannot open an image yet.
          </p>
        </section>
        <PlatformCheck />
        <Roadmap />
      </main>
    </div>
  );
}
