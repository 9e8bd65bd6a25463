// The webviews' element ids and the classes their code sets: one source for the host's HTML
// (src/results/resultsHtml.ts), the webview code that looks the elements up (webview/) and the end-to-end
// checks' selectors (test/e2e/), so a renamed element cannot leave one of them behind.

/** Which view a document holds (its body's data-view): one webview bundle serves both. */
export const WEBVIEW_KIND = { results: 'results', sidebar: 'sidebar' } as const;
export type WebviewKind = (typeof WEBVIEW_KIND)[keyof typeof WEBVIEW_KIND];

/** The results panel's document: the status line, then the one-run view and the before/after view. */
export const RESULTS_ID = {
  status: 'status',
  busy: 'busy',
  statusText: 'status-text',
  cancel: 'cancel',
  empty: 'empty',
  run: {
    view: 'result',
    prompt: 'prompt',
    meta: 'meta',
    export: 'export',
    reveal: 'reveal',
    verdict: 'verdict',
    seedStrip: 'seed-strip',
    overlay: 'overlay',
    legend: 'legend',
    legendWord: 'legend-word',
    legendRange: 'legend-range',
    overlayMode: 'ov-mode',
    overlayOpacity: 'ov-opacity',
    chips: 'chips',
    stepRow: 'step-row',
    step: 'step',
    stepLabel: 'step-label',
    maps: 'maps',
    filters: 'filters',
    layerFilter: 'f-layer',
    headFilter: 'f-head',
    firstStep: 'f-from',
    lastStep: 'f-to',
    scale: 'f-scale',
    recipe: 'recipe',
    stepPlot: 'step-plot',
    stepPlotTitle: 'step-plot-title',
    stepPlotSvg: 'step-plot-svg',
    scoresSection: 'scores-section',
    scores: 'scores',
    detection: 'detection',
    overlapMap: 'overlap-map',
    analysis: 'analysis',
    maskThreshold: 'mask-threshold',
    maskThresholdLabel: 'mask-threshold-label',
    masks: 'masks',
    matrixTitle: 'matrix-title',
    matrix: 'matrix',
  },
  compare: {
    view: 'compare',
    title: 'c-title',
    meta: 'c-meta',
    whichLabel: 'c-which-label',
    which: 'c-which',
    export: 'c-export',
    reveal: 'c-reveal',
    verdict: 'c-verdict',
    beforeVerdict: 'c-before-verdict',
    before: 'c-before',
    afterVerdict: 'c-after-verdict',
    after: 'c-after',
    scores: 'c-scores',
    revealCanvas: 'c-reveal-canvas',
    revealSlider: 'c-reveal-slider',
    chips: 'c-chips',
    stepRow: 'c-step-row',
    step: 'c-step',
    stepLabel: 'c-step-label',
    detect: 'c-detect',
    masksSection: 'c-masks-section',
    masksBefore: 'c-masks-before',
    masksAfter: 'c-masks-after',
    overlapBefore: 'c-overlap-before',
    overlapAfter: 'c-overlap-after',
    curveSection: 'c-curve-section',
    curve: 'c-curve',
    curveLabel: 'c-curve-label',
  },
} as const;

/** The sidebar run panel's document. */
export const SIDEBAR_ID = {
  modelHeading: 'h-model',
  model: 'model',
  fileHeading: 'h-file',
  file: 'file',
  settings: 'settings',
  generate: 'generate',
  queueHeading: 'h-queue',
  queue: 'queue',
  queueEmpty: 'queue-empty',
  finetuneHeading: 'h-finetune',
  finetuneStepsSource: 'ft-steps-source',
  finetuneSteps: 'ft-steps',
  finetuneLrSource: 'ft-lr-source',
  finetuneLr: 'ft-lr',
  finetune: 'finetune',
  keySetsHeading: 'h-keys',
  keySets: 'keysets',
  keySetsEmpty: 'keysets-empty',
  historyHeading: 'h-history',
  history: 'history',
  historyEmpty: 'history-empty',
} as const;


/** Classes the webview code sets that the stylesheet and the end-to-end checks look for. */
export const CLASS = {
  /** An older result under a failed run's message, dimmed. */
  stale: 'stale',
  /** The status line reporting a failure. */
  error: 'error',
  /** A word's map in the one-run view's grid. */
  tokenMap: 'token-map',
  /** The overlap matrix's empty top-left cell. */
  corner: 'corner',
  /** A before/after score row's change. */
  delta: 'delta',
  /** A seed's button in the seed strip. */
  seed: 'seed',
  /** The sidebar's clickable rows (a run, a key set); a run's row is also `run`. */
  item: 'item',
  run: 'run',
  /** A job in the sidebar's queue, with its state ('queued', 'running') as a second class. */
  job: 'job',
} as const;

/** Data attributes the webview code sets and the end-to-end checks read. */
export const DATA = {
  /** A word map's word. */
  word: 'data-word',
  /** A mask figure's label: an object's word or "all objects". */
  mask: 'data-mask',
  /** The overlay legend's raw attention at 1 on its colour scale. */
  rawMax: 'data-raw-max',
  /** A sidebar run-setting input's key (seed, steps, guidance). */
  setting: 'data-setting',
} as const;

/** A CSS selector for an element id. */
export const byId = (id: string): string => `#${id}`;
