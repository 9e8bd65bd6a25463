// Entry of the webview bundle (dist/webview/results.js): the results panel and the sidebar run panel
// share it and pick their view from <body data-view>.
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDivider,
  vsCodeProgressRing,
  vsCodeTag,
} from '@vscode/webview-ui-toolkit';
import type { ResultsWebviewState } from '../../src/shared/protocol';
import { startSidebar, type SidebarWebviewState } from '../sidebar/sidebarView';
import type { VsCodeApi } from './dom';
import { startResults } from './resultsView';

provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDivider(), vsCodeProgressRing(), vsCodeTag());

declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

if (document.body.dataset.view === 'sidebar') startSidebar(vscode as VsCodeApi<SidebarWebviewState>);
else startResults(vscode as VsCodeApi<ResultsWebviewState>);
