// A real dynamic import() from CommonJS code, for the ES-module-only packages (node-llama-cpp,
// with its top-level await; fvad-wasm). tsc's CommonJS output (dist/) turns `import(x)` into
// require(x), which cannot load them; tsx keeps import() as it is. Through this both load the
// same way.
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a fixed body, no input
const dynamicImport = new Function('specifier', 'return import(specifier)') as (
  specifier: string,
) => Promise<unknown>;

export function importEsm<T>(specifier: string): Promise<T> {
  return dynamicImport(specifier) as Promise<T>;
}
