// Types of addon.js: exactly the napi-generated loader's.
export * from './index.js'
