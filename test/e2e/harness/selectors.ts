// The webviews' selectors the checks use, built from the ids and classes the host's HTML and the webview
// code take from src/shared/webviewDom.ts, so a renamed element fails the build, not a check at run time.
import { byId, CLASS, DATA, RESULTS_ID, SIDEBAR_ID } from '../../../src/shared/webviewDom';

export const RUN = RESULTS_ID.run;
export const COMPARE = RESULTS_ID.compare;

/** The generated image (+ the selected word's overlay) in the shown one-run view. */
export const WEBVIEW_IMAGE = `${byId(RUN.view)}:not([hidden]) canvas${byId(RUN.overlay)}`;
/** One figure (canvas + caption) per word. */
export const WEBVIEW_TOKEN_MAP = `${byId(RUN.maps)} .${CLASS.tokenMap}[${DATA.word}]`;
/** "Run failed: ..." */
export const WEBVIEW_ERROR = `${byId(RESULTS_ID.status)}.${CLASS.error}:not([hidden])`;
/** The status line while it says something ("Run cancelled."). */
export const WEBVIEW_STATUS = `${byId(RESULTS_ID.status)}:not([hidden])`;
/** The before/after view, shown with its score rows. */
export const COMPARE_SCORES = `${byId(COMPARE.view)}:not([hidden]) ${byId(COMPARE.scores)} tr + tr`;
/** A run in the sidebar's history. */
export const HISTORY_RUN = `${byId(SIDEBAR_ID.history)} .${CLASS.item}.${CLASS.run}`;
/** A key set in the sidebar. */
export const KEY_SET = `${byId(SIDEBAR_ID.keySets)} .${CLASS.item}`;
/** The sidebar's input for a run setting (seed, steps, guidance). */
export const settingInput = (key: string): string => `input[${DATA.setting}="${key}"]`;
