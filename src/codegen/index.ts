// Public API of oncrpc/codegen: compile .x files, generate TypeScript, or load them at run time.

export { check, checkFile, compileFile, compileSource, type CheckResult, type CompileOptions } from './compile.js';
export { generateTypeScript, outputPath, type GenerateOptions } from './generate.js';
export {
  loadSchema,
  loadX,
  loadXFiles,
  type LoadedSchema,
  type ProgramDescriptor as LoadedProgram,
  type VersionDescriptor as LoadedVersion,
  type ProcedureDescriptor as LoadedProcedure,
} from './interpret.js';
export { fromJson, toJson, type Json } from './json.js';
export { formatDiagnostic, type Diagnostic, type Schema, type Specification } from './ast.js';
