/** Lesson 5: queue depth and latency (Little's law on a delayed disk). */
import type { Lesson } from '../lesson.ts';

const RUNTIME_NS = 2e9;

export const queueDepthLesson: Lesson = {
  id: 'queue-depth',
  number: 5,
  title: 'Queue depth and latency',
  summary: 'QD1 against QD32 on a disk that takes 2 ms per read: throughput, latency, Little’s law and the tail.',
  mirrors: 'NVMe submission and completion queues; fio iodepth and clat percentiles; OpenVMM disk_delay',
  status: 'ready',
  steps: [
    {
      title: 'One at a time',
      text: 'The lab opened a RAM disk behind a 2 ms read delay and ran 4 KiB random reads for two seconds with one command outstanding (queue depth 1). Each read waits for the previous one.',
      actions: [
        { kind: 'open', name: 'slow', stack: { kind: 'spec', spec: { kind: 'delay', readUs: 2000, writeUs: 2000, inner: { kind: 'ram', sectors: 32768 } } } },
        { kind: 'workload', job: { rw: 'randread', bs: 4096, iodepth: 1, runtimeNs: RUNTIME_NS } },
      ],
      panel: 'panel-controller',
      question: { kind: 'number', prompt: 'How many IOPS did queue depth 1 reach?', unit: 'IOPS', probe: { kind: 'workload', metric: 'iops' }, tolerance: { relative: 0.1 }, hint: 'Read the IOPS from the controller’s result (within 10%).' },
    },
    {
      title: 'Latency at QD1',
      text: 'With one command in flight, IOPS is about one over the latency.',
      panel: 'panel-latency',
      question: { kind: 'number', prompt: 'What was the mean completion latency, in milliseconds?', unit: 'ms', probe: { kind: 'workload', metric: 'mean-latency-ms' }, tolerance: { relative: 0.1 } },
    },
    {
      title: 'Thirty-two in flight',
      text: 'The same job with 32 commands outstanding. The delay disk serves them concurrently, as an SSD serves many commands at once across its flash dies.',
      actions: [{ kind: 'workload', job: { rw: 'randread', bs: 4096, iodepth: 32, runtimeNs: RUNTIME_NS } }],
      panel: 'panel-controller',
      key: true,
      question: { kind: 'number', prompt: 'How many IOPS did queue depth 32 reach?', unit: 'IOPS', probe: { kind: 'workload', metric: 'iops' }, tolerance: { relative: 0.1 } },
    },
    {
      title: 'Little’s law',
      text: 'Little’s law: the average number of requests in a system equals their arrival rate times the time each spends there. Multiply the IOPS by the mean latency in seconds.',
      panel: 'panel-controller',
      question: {
        kind: 'number',
        prompt: 'IOPS × mean latency (s) = ?',
        probe: { kind: 'workload', metric: 'little' },
        tolerance: { relative: 0.1 },
        hint: 'It should come out close to the queue depth the job kept full.',
      },
    },
    {
      title: 'The tail',
      text: 'The mean hides the slow requests: the 99th percentile is the latency 1% of reads exceed. fio prints these percentiles as clat percentiles.',
      panel: 'panel-latency',
      question: { kind: 'number', prompt: 'What was the 99th-percentile latency at QD32, in milliseconds?', unit: 'ms', probe: { kind: 'workload', metric: 'p99-ms' }, tolerance: { relative: 0.15 } },
    },
  ],
};
