export { PeakEwma, DEFAULT_PEAK_EWMA, type PeakEwmaOptions } from './peak-ewma.js';
export { pickP2C } from './p2c.js';
