/**
 * The lab's main screen: open and create disks on the left with the stack tree, the occupancy map,
 * controller, latency, hex view and terminal on the right, and the platform check and what is
 * still planned at the bottom. Files dropped anywhere on the page open read-only under a RAM diff;
 * several dropped together open as image chains (lab/chain-open.tsx).
 */
import { useState, type DragEvent } from 'react';
import { LabProvider, useLab } from './lab/lab-context.tsx';
import { ControllerPanel } from './panels/controller-panel.tsx';
import { HexPanel } from './panels/hex-panel.tsx';
import { ImagesPanel } from './panels/images-panel.tsx';
import { JobsPanel } from './panels/jobs-panel.tsx';
import { LibraryPanel } from './panels/library-panel.tsx';
import { LatencyPanel } from './panels/latency-panel.tsx';
import { OccupancyPanel } from './panels/occupancy-panel.tsx';
import { ChainOpenProvider, useChainOpener } from './lab/chain-open.tsx';
import { OpenPanel } from './panels/open-panel.tsx';
import { PartitionPanel } from './panels/partition-panel.tsx';
import { StackPanel } from './panels/stack-panel.tsx';
import { TerminalPanel } from './panels/terminal-panel.tsx';
import { PlatformCheck } from './platform-check.tsx';
import { Roadmap } from './roadmap.tsx';
import { LessonsPanel } from './lessons/lessons-panel.tsx';
import { WorkloadProvider } from './workload/workload-context.tsx';

export function App() {
  return (
    <LabProvider>
      <ChainOpenProvider>
        <WorkloadProvider>
          <Lab />
        </WorkloadProvider>
      </ChainOpenProvider>
    </LabProvider>
  );
}

function Lab() {
  const chains = useChainOpener();
  const [dragging, setDragging] = useState(false);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes('Files');

  return (
    <div
      className={`app${dragging ? ' dragging' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        const files = Array.from(e.dataTransfer.files);
        if (files.length > 0) void chains.openFiles(files);
      }}
    >
      <header className="app-head">
        <h1>Disk Lab</h1>
        <p className="tagline">A storage laboratory in a browser tab.</p>
        <StatusLine />
      </header>
      <LessonsPanel />
      <main className="lab">
        <div className="side">
          <OpenPanel />
          <StackPanel />
          <ImagesPanel />
          <LibraryPanel />
        </div>
        <div className="work">
          <OccupancyPanel />
          <JobsPanel />
          <PartitionPanel />
          <div className="pair">
            <ControllerPanel />
            <LatencyPanel />
          </div>
          <div className="pair wide">
            <HexPanel />
            <TerminalPanel />
          </div>
        </div>
      </main>
      <footer className="foot">
        <PlatformCheck />
        <Roadmap />
      </footer>
      {dragging && (
        <div className="drop-overlay" aria-hidden="true">
          Drop images (a chain: the child with its parents) to open them read-only under a RAM diff
        </div>
      )}
    </div>
  );
}

function StatusLine() {
  const { message, say } = useLab();
  if (!message) return <p className="status-line" role="status" />;
  const error = message.kind === 'error';
  return (
    <p className={`status-line${error ? ' error' : ''}`} role={error ? 'alert' : 'status'} data-testid="status-line">
      {message.text}{' '}
      <button type="button" className="link" onClick={() => say(undefined)} aria-label="Dismiss message">
        ×
      </button>
    </p>
  );
}
