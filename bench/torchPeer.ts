// The PyTorch reference sampler kept running beside a benchmark (time_sampler.py --serve), so the engine's
// timings and the peer's alternate in one run: on a shared machine, load that comes and goes then hits both.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface, type Interface } from 'node:readline';

export interface PeerTiming {
  msPerImage: number;
  torch: string;
}

export class TorchPeer {
  private readonly lines: AsyncIterator<string>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly reader: Interface, private readonly stderr: () => string) {
    this.lines = reader[Symbol.asyncIterator]();
  }

  /**
   * Starts the peer on `model`'s training weights and `threads` threads (denormals flushed by the script), or
   * says why it cannot run: no weights, no /usr/bin/python3 with torch.
   */
  static async start(root: string, model: string, prompt: string, threads: number): Promise<TorchPeer | { skipped: string }> {
    const weights = path.join(model, 'train', 'weights-fp16.pt');
    if (!existsSync(weights)) return { skipped: `${weights} is missing (the peer needs the model's training weights)` };
    const t = String(threads);
    const child = spawn('/usr/bin/python3', ['-W', 'ignore', '-m', 'prompt_lens_py.reference.time_sampler', '--serve', '--model', model, '--weights', weights, '--prompt', prompt, '--threads', t], {
      cwd: root,
      env: { ...process.env, OMP_NUM_THREADS: t, OPENBLAS_NUM_THREADS: t, MKL_NUM_THREADS: t },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const failed = new Promise<string>((resolve) => {
      child.on('error', (error) => resolve(error.message));
      child.on('exit', (code) => resolve(`exit ${code}`));
    });
    const peer = new TorchPeer(child, createInterface({ input: child.stdout }), () => stderr);
    const ready = await Promise.race([peer.next(), failed.then((why) => ({ failed: why }))]);
    if (typeof ready !== 'string') {
      child.kill();
      return { skipped: lastLine(stderr) || (ready?.failed ?? 'the peer closed its output') };
    }
    return peer;
  }

  /** ms per image over `images` images sampled `batch` seeds per call (the first request of a batch size warms up). */
  async time(batch: number, images: number): Promise<PeerTiming> {
    this.child.stdin.write(`${batch} ${images}\n`);
    const line = await this.next();
    if (line === undefined) throw new Error(`the PyTorch peer stopped: ${lastLine(this.stderr())}`);
    const answer = JSON.parse(line) as { ms_per_image: number; torch: string };
    return { msPerImage: answer.ms_per_image, torch: answer.torch };
  }

  stop(): void {
    this.reader.close();
    this.child.stdin.end();
    this.child.kill();
  }

  private async next(): Promise<string | undefined> {
    const { value, done } = await this.lines.next();
    return done ? undefined : value;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
