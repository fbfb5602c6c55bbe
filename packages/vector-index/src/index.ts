/**
 * The public surface of @lookout/vector-index: the index and what its options and answers
 * are made of. The sketch, the WebAssembly kernel, the top-k heap and the slot store are
 * internals (its tests import them by path), free to change without touching callers.
 */
export { DEFAULT_EXACT_MAX_SIZE, DEFAULT_RERANK, VectorIndex } from './vector-index.js';
export type { SearchHit, SearchMode, VectorIndexOptions, VectorIndexStats } from './vector-index.js';
