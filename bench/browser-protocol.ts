/** Messages between the benchmark page and its raw-OPFS baseline worker, and the results it reports. */
export interface RawOpfsRequest {
  readonly fileBytes: number;
  readonly randomMs: number;
}

export interface RawOpfsResult {
  readonly seqWriteMBps: number;
  readonly seqReadMBps: number;
  readonly randReadIops: number;
  /** RamDisk.read called directly, 4 KiB random, each awaited. */
  readonly ramDirectIops: number;
}

/** One measured figure of the browser suite, before ratios are formed on the Node side. */
export interface BrowserFigure {
  readonly name: string;
  readonly unit: 'IOPS' | 'MB/s';
  readonly value: number;
  readonly ops: number;
  readonly seconds: number;
}
