// Public API of oncrpc/codegen: compile .x files, generate TypeScript, or load them at run time.

export { check, checkFile, compileFile, compileSource, type CheckResult, type CompileOptions } from './compile.js';
export { generateTypeScript, outputPath, type GenerateOptions } from './generate.js';
export { loadSchema, loadX, loadXFiles, type AnyXdrType, type LoadedSchema } from './interpret.js';
export { formatDiagnostic, type Diagnostic, type Schema, type Specification } from './ast.js';
