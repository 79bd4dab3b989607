/**
 * Type declarations for the WebAssembly JS API as Node 24 provides it (memory64 and table64
 * included: their grow/get/set take BigInt). TypeScript only ships these in the DOM lib, which
 * would also bring browser globals into a Node project; this declares the part the replica uses.
 */
declare namespace WebAssembly {
  type ImportValue = Function | Global | Memory | Table | Suspending | number | bigint;
  type ModuleImports = Record<string, ImportValue>;
  type Imports = Record<string, ModuleImports>;
  type ExportValue = Function | Global | Memory | Table;
  type Exports = Record<string, ExportValue>;
  type ImportExportKind = 'function' | 'global' | 'memory' | 'table' | 'tag';
  interface ModuleImportDescriptor {
    module: string;
    name: string;
    kind: ImportExportKind;
  }
  interface ModuleExportDescriptor {
    name: string;
    kind: ImportExportKind;
  }
  class Module {
    constructor(bytes: BufferSource);
    static imports(module: Module): ModuleImportDescriptor[];
    static exports(module: Module): ModuleExportDescriptor[];
    static customSections(module: Module, sectionName: string): ArrayBuffer[];
  }
  class Instance {
    constructor(module: Module, importObject?: Imports);
    readonly exports: Exports;
  }
  interface MemoryDescriptor {
    initial: number | bigint;
    maximum?: number | bigint;
    shared?: boolean;
    address?: 'i32' | 'i64';
  }
  class Memory {
    constructor(descriptor: MemoryDescriptor);
    readonly buffer: ArrayBuffer;
    grow(delta: number | bigint): number | bigint;
  }
  interface TableDescriptor {
    element: 'anyfunc' | 'externref';
    initial: number | bigint;
    maximum?: number | bigint;
    address?: 'i32' | 'i64';
  }
  class Table {
    constructor(descriptor: TableDescriptor, value?: unknown);
    readonly length: number;
    get(index: number | bigint): unknown;
    set(index: number | bigint, value?: unknown): void;
    grow(delta: number | bigint, value?: unknown): number | bigint;
  }
  type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'externref' | 'anyfunc';
  interface GlobalDescriptor {
    value: ValueType;
    mutable?: boolean;
  }
  class Global {
    constructor(descriptor: GlobalDescriptor, value?: unknown);
    value: unknown;
    valueOf(): unknown;
  }
  class CompileError extends Error {}
  class LinkError extends Error {}
  class RuntimeError extends Error {}
  type BufferSource = ArrayBufferView | ArrayBuffer;
  /** JSPI: an async import the Wasm stack suspends on (Node 24, no flag). */
  class Suspending {
    constructor(fn: (...args: any[]) => unknown);
  }
  /** JSPI: wraps an export so that it runs on its own stack and may suspend; returns a promise. */
  function promising<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<R>;
  function validate(bytes: BufferSource): boolean;
  function compile(bytes: BufferSource): Promise<Module>;
  function instantiate(bytes: BufferSource, importObject?: Imports): Promise<{ module: Module; instance: Instance }>;
  function instantiate(module: Module, importObject?: Imports): Promise<Instance>;
}
