import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atenOpClass, byClass, OP_CLASSES, ortKernelTimes, ortOpClass } from '../../../bench/opClasses';

test('ortOpClass and atenOpClass: kernels by class, layout reorders with convolution, the rest elementwise', () => {
  assert.equal(ortOpClass('Conv'), 'convolution');
  assert.equal(ortOpClass('ReorderInput'), 'convolution');
  assert.equal(ortOpClass('FusedMatMul'), 'matrix products');
  assert.equal(ortOpClass('InstanceNormalization'), 'normalization');
  assert.equal(ortOpClass('QuickGelu'), 'activations');
  assert.equal(ortOpClass('Transpose'), 'copies, reshapes and elementwise');
  assert.equal(atenOpClass('aten::mkldnn_convolution'), 'convolution');
  assert.equal(atenOpClass('aten::addmm'), 'matrix products');
  assert.equal(atenOpClass('aten::native_group_norm'), 'normalization');
  // A wrapper's self time is its own dispatch, not the kernel under it.
  assert.equal(atenOpClass('aten::conv2d'), 'copies, reshapes and elementwise');
});

test('byClass: sums per class, every class present', () => {
  const sums = byClass([['Conv', 2], ['ReorderOutput', 0.5], ['MatMul', 1], ['Add', 0.25], ['Reshape', 0.25]], ortOpClass);
  assert.deepEqual(Object.keys(sums), [...OP_CLASSES]);
  assert.equal(sums.convolution, 2.5);
  assert.equal(sums['matrix products'], 1);
  assert.equal(sums['copies, reshapes and elementwise'], 0.5);
  assert.equal(sums.softmax, 0);
});

test('ortKernelTimes: node kernel events only, microseconds to ms per call', () => {
  const events = [
    { cat: 'Session', name: 'model_run', dur: 9000 },
    { cat: 'Node', name: 'conv_a_kernel_time', dur: 3000, args: { op_name: 'Conv' } },
    { cat: 'Node', name: 'conv_a_fence_before', dur: 10, args: { op_name: 'Conv' } },
    { cat: 'Node', name: 'conv_b_kernel_time', dur: 1000, args: { op_name: 'Conv' } },
    { cat: 'Node', name: 'mm_kernel_time', dur: 500, args: { op_name: 'MatMul' } },
  ];
  const times = ortKernelTimes(events, 2);
  assert.deepEqual([...times], [['Conv', 2], ['MatMul', 0.25]]);
});
