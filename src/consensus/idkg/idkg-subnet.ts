/**
 * A subnet of simulated nodes (reference idkg.md §5.4): its nodes as configured, which of them
 * are live, whether it can finalize blocks (≥ 2f + 1 live nodes, as consensus needs), and the
 * block maker's round-robin turn over live nodes.
 */
import { faultsTolerated } from '../../crypto/threshold/idkg/params.ts';
import type { FaultBehaviour, FaultSpec } from './faults.ts';
import type { IdkgNode } from './node.ts';

/** A subnet's nodes as configured. */
export interface IdkgSubnetConfig {
  name: string;
  /** Number of nodes (n). */
  nodes: number;
  faults: FaultSpec[];
  /** Explicit behaviours by node index (tests; added to what `faults` assigns). */
  nodeFaults?: Record<number, FaultBehaviour[]>;
  /** Node indices to mark faulty, in order (default: from the last node down). */
  faultOrder?: number[];
}

/** A subnet of simulated nodes. */
export class IdkgSubnet {
  readonly name: string;
  readonly nodes: IdkgNode[];
  #blockMakerTurn = 0;

  constructor(name: string, nodes: IdkgNode[]) {
    this.name = name;
    this.nodes = nodes;
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  /** Nodes that have not crashed. */
  get live(): IdkgNode[] {
    return this.nodes.filter((n) => !n.crashed);
  }

  /** f + 1 or more nodes down: no block is finalized (consensus needs 2f + 1). */
  get stalled(): boolean {
    return this.live.length < 2 * faultsTolerated(this.nodes.length) + 1;
  }

  /** The next block maker (round-robin over live nodes). */
  nextBlockMaker(): IdkgNode | undefined {
    const live = this.live;
    return live.length === 0 ? undefined : live[this.#blockMakerTurn++ % live.length];
  }
}
