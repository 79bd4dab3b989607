/**
 * What the threshold protocol suite keeps across restarts, as an interface the replica fills
 * from its SQLite store (replica-network.ts): each node's shares, one row per (transcript,
 * receiver), and the public pre-signature records. Without a store the suite keeps shares in
 * memory only (tests, the bench).
 */
import type { NodeShareStore } from './node.ts';
import type { PreSignatureRecord } from './pre-signature-record.ts';

/** Where the suite keeps what must survive a restart. */
export interface IdkgStore {
  shares: NodeShareStore;
  /** Erases every node's share of a transcript at once (default: one delete per receiver). */
  deleteTranscriptShares?(transcriptId: string, receivers: number): void;
  savePreSignature(r: PreSignatureRecord): void;
  deletePreSignature(preSignatureId: string): void;
  loadPreSignatures(): PreSignatureRecord[];
  /** Runs `fn` in one store transaction (all its writes or none). */
  transaction<T>(fn: () => T): T;
}
