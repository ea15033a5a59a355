// lenet-wasm/idx: the IDX file format alone (MNIST's), parse and write, any rank, all six dtypes, gzip-aware.
export { parseIdx, writeIdx, isGzip, IdxError, type IdxArray, type IdxDtype, type IdxData, type IdxErrorCode, type ParseIdxOptions } from "./data/idx.js";
