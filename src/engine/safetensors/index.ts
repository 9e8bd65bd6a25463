export * from './safetensors';
export * from './f16';
