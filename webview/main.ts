// Entry of the webview bundle (dist/webview/results.js): the results panel and the sidebar run panel
// share it and pick their view from <body data-view>.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeProgressRing,
  vsCodeTag,
} from '@vscode/webview-ui-toolkit';
import type { ResultsWebviewState } from '../src/shared/protocol';
import { WEBVIEW_KIND } from '../src/shared/webviewDom';
import { startResults } from './results/resultsView';
import { startSidebar, type SidebarWebviewState } from './sidebar/sidebarView';
import type { VsCodeApi } from './widgets/dom';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDivider(), vsCodeProgressRing(), vsCodeTag());

declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

if (document.body.dataset.view === WEBVIEW_KIND.sidebar) startSidebar(vscode as VsCodeApi<SidebarWebviewState>);
else startResults(vscode as VsCodeApi<ResultsWebviewState>);
