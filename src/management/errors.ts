/**
 * The management canister's error texts, verbatim from the replica (dfinity/ic
 * `rs/types/types/src/messages/ingress_messages.rs` for the ingress parse step,
 * `rs/execution_environment/src/canister_manager.rs` for the ingress filter,
 * `canister_manager/types.rs` for execution-side errors, whose texts end with an
 * `ErrorHelp` line: `\n<suggestion> See documentation: <link>`). Each function returns an
 * `IcError` with the replica's code.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { ErrorCode, IcError } from '../types/ic-error.ts';

const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';
const help = (suggestion: string, anchor: string): string => `\n${suggestion} See documentation: ${DOCS}#${anchor}`;
const INTERNAL_ERROR_HELP =
  '\nThis is an internal error on the IC. Please report it to IC devs on the forum: https://forum.dfinity.org';

// ---- ingress parse step (extract_effective_canister_id) -------------------------------------

/** IC0536: an unknown method sent by ingress (`ParseIngressError::UnknownSubnetMethod`). */
export function ic00DoesNotExposeMethod(method: string): IcError {
  return new IcError(ErrorCode.CanisterMethodNotFound, `ic00 interface does not expose method ${method}`);
}

/** IC0406: a method that is never callable by ingress (`SubnetMethodNotAllowed`). */
export function notCallableViaIngress(method: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, `ic00 method ${method} can not be called via ingress messages`);
}

/** IC0408: the payload of an ingress message does not decode (`InvalidSubnetPayload`). */
export function failedToParsePayload(method: string, candidError: string): IcError {
  return new IcError(
    ErrorCode.InvalidManagementPayload,
    `Failed to parse payload for ic00 method ${method}: IC0408: Error decoding candid: ${candidError}`,
  );
}

// ---- ingress filter (canister_manager should_accept_ingress_message) -------------------------

/** IC0406: canister-only methods that pass the parse step (canister_info). */
export function onlyCanistersCanCall(method: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, `Only canisters can call ic00 method ${method}`);
}

/** IC0512 (ingress filter): a controller-only method sent by a non-controller. */
export function onlyControllersCanCall(canisterId: Principal, method: string): IcError {
  return new IcError(
    ErrorCode.CanisterInvalidController,
    `Only controllers of canister ${canisterId.toText()} can call ic00 method ${method}`,
  );
}

// ---- execution (CanisterManagerError → UserError) ---------------------------------------------

/** IC0301 (execution). */
export function canisterNotFound(id: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterNotFound,
    `Canister ${id.toText()} not found.` + help('Check the ICP dashboard to ensure the canister exists.', 'canister-not-found'),
  );
}

/** IC0536 (execution, inter-canister): unknown management method. */
export function managementCanisterHasNoMethod(method: string): IcError {
  return new IcError(ErrorCode.CanisterMethodNotFound, `Management canister has no method '${method}'`);
}

/** IC0408 (execution): the Candid argument does not decode as the method's type. */
export function candidDecodeError(detail: string): IcError {
  return new IcError(ErrorCode.InvalidManagementPayload, `Error decoding candid: ${detail}`);
}

/** IC0512 (execution): the caller is not a controller of the canister. */
export function invalidController(canisterId: Principal, controllers: Principal[], sender: Principal): IcError {
  const sorted = [...controllers].map((c) => c.toText()).sort();
  return new IcError(
    ErrorCode.CanisterInvalidController,
    `Only the controllers of the canister ${canisterId.toText()} can control it.\n` +
      `Canister's controllers: ${sorted.join(' ')}\n` +
      `Sender's ID: ${sender.toText()}` +
      help('Execute this call from a controller of the target canister or add the current caller as a controller.', 'invalid-controller'),
  );
}

/** IC0538: `specified_id` names an existing canister (`CanisterAlreadyExists`). */
export function canisterAlreadyExists(id: Principal): IcError {
  return new IcError(ErrorCode.CanisterAlreadyInstalled, `Canister ${id.toText()} is already installed.` + INTERNAL_ERROR_HELP);
}

/** IC0405: `specified_id` is not hosted by any subnet of this replica. */
export function specifiedIdNotHosted(id: Principal, subnetId: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterNotHostedBySubnet,
    `Unsuccessful validation of specified ID: Specified CanisterId ${id.toText()} is not hosted by subnet ${subnetId.toText()}.` +
      INTERNAL_ERROR_HELP,
  );
}

/** IC0510: delete_canister on a canister that is not stopped. */
export function deleteCanisterNotStopped(id: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterNotStopped,
    `Canister ${id.toText()} must be stopped before it is deleted.` + help('Stop the canister before deleting it.', 'delete-canister-not-stopped'),
  );
}

/** IC0512: a canister deleting itself. */
export function deleteCanisterSelf(id: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterInvalidController,
    `Canister ${id.toText()} cannot delete itself.` + help('Delete the canister from one of its other controllers.', 'delete-canister-self'),
  );
}

/** IC0504: a settings value the replica refuses. */
export function invalidSettings(message: string): IcError {
  return new IcError(
    ErrorCode.CanisterContractViolation,
    `Could not validate the settings: ${message} ` +
      help('Apply the described changes to make the settings valid.', 'invalid-settings'),
  );
}

/** IC0505 for a TypeScript canister module that cannot be loaded (chainkey-replica's own modules). */
export function invalidTypeScriptModule(canisterId: Principal, detail: string): IcError {
  return new IcError(ErrorCode.CanisterInvalidWasm, `Error from Canister ${canisterId.toText()}: Canister's TypeScript module is not valid: ${detail}`);
}

/** IC0505: the module is not valid Wasm. */
export function invalidWasm(canisterId: Principal, detail: string): IcError {
  return new IcError(
    ErrorCode.CanisterInvalidWasm,
    `Error from Canister ${canisterId.toText()}: Canister's Wasm module is not valid: ${detail}`,
  );
}

/** IC0514: mode `install` on a canister that already has a module. */
export function canisterNonEmpty(canisterId: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterNonEmpty,
    `Canister ${canisterId.toText()} cannot be installed because the canister is not empty. Try installing with mode='reinstall' instead.` +
      help("Check that you want to overwrite the canister and, if so, use mode='reinstall'.", 'canister-not-empty'),
  );
}

/** IC0504: upgrading an enhanced-orthogonal-persistence canister without `wasm_memory_persistence`. */
export function missingUpgradeOption(): IcError {
  return new IcError(
    ErrorCode.CanisterContractViolation,
    'Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` upgrade option.',
  );
}

/** IC0504: `wasm_memory_persistence: opt Keep` for a new module without enhanced orthogonal persistence. */
export function invalidUpgradeOption(): IcError {
  return new IcError(
    ErrorCode.CanisterContractViolation,
    'Invalid upgrade option: The `wasm_memory_persistence: opt Keep` upgrade option requires that the new canister module supports enhanced orthogonal persistence.',
  );
}

/** IC0406: a method of ic.did this replica does not serve yet. */
export function notSupported(method: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, `ic00 method ${method} is not supported by chainkey-replica yet.`);
}

/**
 * IC0403: create_canister with fewer cycles than the creation fee
 * (canister_manager `CanisterManagerError::CreateCanisterNotEnoughCycles`).
 */
export function createCanisterNotEnoughCycles(required: bigint, sent: bigint): IcError {
  return new IcError(
    ErrorCode.InsufficientCyclesForCreateCanister,
    `Creating a canister requires a fee of ${required} that is deducted from the canister's initial balance but only ${sent} cycles were received with the create_canister request.` +
      help('Try sending more cycles with the request.', 'create-canister-not-enough-cycles'),
  );
}

/**
 * IC0207: a snapshot operation the canister cannot pay for (`CanisterManagerError::
 * CanisterSnapshotNotEnoughCycles` in canister_manager/types.rs, with its ErrorHelp).
 * @param outOfCycles the IC0207 error of the failed charge (`CanisterOutOfCyclesError`'s text)
 */
export function canisterSnapshotNotEnoughCycles(outOfCycles: IcError): IcError {
  return new IcError(
    ErrorCode.CanisterOutOfCycles,
    `Canister snapshotting failed with: \`${outOfCycles.message}\`${help('Try sending more cycles with the request.', 'canister-snapshot-not-enough-cycles')}`,
  );
}
