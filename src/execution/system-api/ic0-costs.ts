/**
 * What each `ic0` function costs in instructions (dfinity/ic rs/embedders/src/wasmtime_embedder/
 * system_api_complexity.rs `overhead`, charged in linker.rs `charge_for_cpu` /
 * `charge_for_cpu_and_mem`): a base overhead, plus one instruction per byte copied
 * (`get_num_instructions_from_bytes`) on application subnets. Functions not listed cost
 * {@link DEFAULT_IC0_OVERHEAD}.
 */

/** The overhead of almost every ic0 function. */
export const DEFAULT_IC0_OVERHEAD = 500n;

/** Base overheads that differ from {@link DEFAULT_IC0_OVERHEAD}. */
const OVERHEAD: Record<string, bigint> = {
  call_new: 1_500n,
  call_perform: 5_000n,
  is_controller: 1_000n,
  debug_print: 100n,
  performance_counter: 200n,
  cost_http_request_v2: 10_000n,
  stable_read: 20n,
  stable_write: 20n,
  stable_size: 20n,
  stable64_read: 20n,
  stable64_write: 20n,
  stable64_size: 20n,
  stable_grow: 500n,
  stable64_grow: 500n,
};

/** Which arguments are byte counts the function copies (charged one instruction each). */
const BYTE_ARGS: Record<string, readonly number[]> = {
  msg_arg_data_copy: [2],
  msg_caller_copy: [2],
  msg_caller_info_data_copy: [2],
  msg_caller_info_signer_copy: [2],
  msg_reject_msg_copy: [2],
  msg_method_name_copy: [2],
  msg_reply_data_append: [1],
  msg_reject: [1],
  canister_self_copy: [2],
  subnet_self_copy: [2],
  root_key_copy: [2],
  data_certificate_copy: [2],
  call_new: [1, 3],
  call_data_append: [1],
  debug_print: [1],
  trap: [1],
  certified_data_set: [1],
  is_controller: [1],
  stable_read: [2],
  stable_write: [2],
  stable64_read: [2],
  stable64_write: [2],
  cost_sign_with_ecdsa: [1],
  cost_sign_with_schnorr: [1],
  cost_vetkd_derive_key: [1],
};

/**
 * Instructions charged for a call to `ic0.<name>` with `args`.
 * @param bytesCharged false on system (NNS) subnets, where bytes are free.
 */
export function ic0Cost(name: string, args: readonly unknown[], bytesCharged: boolean): bigint {
  let cost = OVERHEAD[name] ?? DEFAULT_IC0_OVERHEAD;
  const byteArgs = bytesCharged ? BYTE_ARGS[name] : undefined;
  if (byteArgs) {
    for (const i of byteArgs) {
      const v = args[i];
      cost += typeof v === 'bigint' ? BigInt.asUintN(64, v) : typeof v === 'number' ? BigInt(v >>> 0) : 0n;
    }
  }
  return cost;
}
