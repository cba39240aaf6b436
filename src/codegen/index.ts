// Public API of oncrpc/codegen: compile .x files, generate TypeScript, or load them at run time.

export { check, checkFile, compileFile, compileSource, type CheckResult, type CompileOptions } from './compile.js';
export { generateJavaScript, generateTypeScript, outputPath, type GenerateOptions, type JavaScriptCodecs } from './generate.js';
export { codeGenerationAllowed, loadSchema, loadX, loadXFiles, type AnyXdrType, type CodecPair, type LoadedSchema, type LoadOptions } from './interpret.js';
export { formatDiagnostic, type Diagnostic, type Schema, type Specification } from './ast.js';
