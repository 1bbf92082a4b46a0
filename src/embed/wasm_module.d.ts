// The engine's .wasm imported as bytes (esbuild's `binary` loader).
declare module '*.wasm' {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}
