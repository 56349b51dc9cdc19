// Built-in presets are bundled as text by esbuild (loader `.yml: text`) and by vitest (see vitest.config.ts).
declare module '*.yml' {
  const text: string;
  export default text;
}
