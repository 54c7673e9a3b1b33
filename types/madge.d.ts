/** The part of madge's API (https://github.com/pahen/madge#api) that test/unit/layout.test.ts uses. */
declare module 'madge' {
  interface MadgeConfig {
    baseDir?: string;
    fileExtensions?: string[];
    tsConfig?: string | object;
    detectiveOptions?: object;
    excludeRegExp?: RegExp[];
  }
  interface MadgeResult {
    /** Every module and the modules it imports, relative to baseDir. */
    obj(): Record<string, string[]>;
    /** The cycles, each a list of modules. */
    circular(): string[][];
  }
  function madge(path: string | string[], config?: MadgeConfig): Promise<MadgeResult>;
  export default madge;
}
