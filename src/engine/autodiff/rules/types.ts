/** What a gradient rule sees of its node and of the graph around it. */
import type { NodeProto } from '../../onnx/proto';
import type { Emitter } from '../emitter';

export interface RuleContext {
  readonly node: NodeProto;
  readonly e: Emitter;
  /** Name of input `i` ('' where an optional input is absent). */
  input(i: number): string;
  output(k: number): string;
  /** The gradient flowing into output `k`, or undefined when none does. */
  dy(k?: number): string | undefined;
  /** Whether input `i` lies on a path from a differentiated input, so it needs a gradient. */
  needs(i: number): boolean;
  /** Static shape of any tensor the node reads or writes. */
  shape(name: string): number[];
  /** ONNX element type of a tensor. */
  dtype(name: string): number;
  /** Values of an integer operand listed in the rule's `intInputs`. */
  ints(name: string): number[];
  /** Throws an error naming the node. */
  fail(why: string): never;
}

export interface GradientRule {
  /**
   * The vector-Jacobian product: for each input, the name of dL/d(input) built from the outputs'
   * gradients, or undefined for inputs that need none.
   */
  grad(c: RuleContext): (string | undefined)[];
  /** Integer inputs whose values the rule reads (Slice bounds, Split sizes, reduction axes). */
  intInputs?: number[];
}
