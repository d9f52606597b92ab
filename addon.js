// The native addon, as every entry point of this package loads it.
//
// `index.js` is napi-rs's generated loader: it takes a `.node` file next to
// it (a local build) or the prebuilt binary from the platform package
// `@clawsec/traffic-guardian-<platform>` (an optionalDependency), or the file
// named by NAPI_RS_NATIVE_LIBRARY_PATH. This wrapper only turns its failure
// into an error that says what to do. Its export list is checked against the
// loader's by test/package.test.ts.
let native
try {
  native = await import('./index.js')
} catch (err) {
  const platform = `${process.platform}-${process.arch}`
  const error = new Error(
    `@clawsec/traffic-guardian: no native addon could be loaded for this machine (${platform}, Node ${process.version}). ` +
      'Prebuilt binaries ship as optional dependencies for linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, ' +
      'linux-arm64-musl, darwin-arm64 and darwin-x64. If this machine is one of them, the optional dependency ' +
      'was skipped: reinstall without --omit=optional / --no-optional (or, after npm bug ' +
      'https://github.com/npm/cli/issues/4828, delete node_modules and package-lock.json and run `npm install` again). ' +
      'Otherwise build the addon from source: install a Rust toolchain (https://rustup.rs), and in a clone of this ' +
      "package's source repository run `npm install` (or `npm run build:addon`); then use that checkout, or set " +
      'NAPI_RS_NATIVE_LIBRARY_PATH to the traffic-guardian.<platform>.node file it built.',
  )
  error.cause = err
  throw error
}

export const {
  allocatorInfo,
  Guardian,
  StreamScanner,
  caEnsure,
  caExport,
  caInfo,
  canaryList,
  canaryNew,
  canaryRetire,
  caPublicLayout,
  checkConfig,
  configSchema,
  Direction,
  GuardianMode,
  GuardianState,
  homeLayout,
  HttpMessageKind,
  httpMessageKind,
  ignoreAdd,
  ignoreList,
  ignoreRemove,
  MIN_TOKEN_LEN,
  normalizeTimeBound,
  parseHar,
  parseHttpMessage,
  queryFindings,
  restartOnlyKeys,
  ruleCatalog,
  runtimeCredentials,
  scanMessage,
  scanText,
  Severity,
  ThreatType,
  __napiBindingTarget,
} = native
