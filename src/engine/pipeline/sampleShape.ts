// The UNet sample's [channels, height, width] for an image size: fixed by the graph, or derived from the size.

/** Pixels per latent cell of Stable Diffusion's VAE. */
export const VAE_SCALE = 8;

/**
 * `dims`: the graph's declared sample shape (numbers where fixed). `latent`: the model decodes latents with a VAE.
 * `sampleSize`: the UNet config's native sample size, when it has one.
 */
export function sampleShapeFor(
  dims: ReadonlyArray<number | string>,
  latent: boolean,
  sampleSize: number | undefined,
  size: { width: number; height: number } | undefined,
): [number, number, number] {
  const channels = typeof dims[1] === 'number' ? dims[1] : 4;
  const scale = latent ? VAE_SCALE : 1;
  if (typeof dims[2] === 'number' && typeof dims[3] === 'number') {
    const [h, w] = [dims[2], dims[3]];
    if (size && (size.width !== w * scale || size.height !== h * scale)) {
      throw new Error(`size: this model only makes ${w * scale}x${h * scale} images, not ${size.width}x${size.height}`);
    }
    return [channels, h, w];
  }
  // The model's native size (SD 1.x: 64 latent cells = 512 px), else Stable Diffusion's 512 px.
  const native = (sampleSize ?? 512 / scale) * scale;
  const { width, height } = size ?? { width: native, height: native };
  if (width % scale !== 0 || height % scale !== 0) throw new Error(`size ${width}x${height} must be a multiple of ${scale}`);
  return [channels, height / scale, width / scale];
}
