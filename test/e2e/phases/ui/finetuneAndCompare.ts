// The run panel (sidebar), a Finetune from its code lens into the before/after view, the split picture, key
// sets, a setting edited in the panel, a run reopened from the history.
import { byId, CLASS, SIDEBAR_ID } from '../../../../src/shared/webviewDom';
import { WEBVIEW_IMAGE, COMPARE_SCORES, HISTORY_RUN, KEY_SET, settingInput, RUN, COMPARE } from '../../harness/selectors';
import { sleep } from '../../harness/util';
import { codeLensOf, drawnState, findFrameWith, webviewShot } from '../../harness/workbench';
import { PROMPT_FILE, type UiContext } from './context';

export async function finetuneAndCompare(ctx: UiContext): Promise<void> {
  const { page, steps, out } = ctx.ui;
  await steps.step('the Prompt Lens activity bar item opens the run panel with the history', async () => {
    await page.locator('.activitybar [aria-label^="Prompt Lens"]').first().click();
    const sidebar = (ctx.sidebar = await findFrameWith(page, HISTORY_RUN, 30_000));
    const thumbnail = await drawnState(sidebar.locator(`${HISTORY_RUN} img`).first());
    if (thumbnail !== 'ok') throw new Error(`history thumbnail: ${thumbnail}`);
    const model = (await sidebar.locator(byId(SIDEBAR_ID.model)).innerText()).trim();
    if (!/tiny-shapes on cpu/.test(model)) throw new Error(`the model line says "${model}"`);
    console.log(`    sidebar: ${await sidebar.locator(HISTORY_RUN).count()} run(s), model: ${model}`);
  });

  await steps.step('clicking the "Finetune" code lens: queue and status bar while it trains, then the before/after view', async () => {
    const lens = await codeLensOf(page, PROMPT_FILE, 'Finetune');
    await lens.click();
    // While it runs: the spinning status bar item and the job in the sidebar's queue.
    const { sidebar } = ctx;
    const status = page.locator('.statusbar-item', { hasText: 'Prompt Lens:' }).first();
    const job = sidebar?.locator(`${byId(SIDEBAR_ID.queue)} .${CLASS.job}.running`);
    const seen = await Promise.all([
      status.waitFor({ timeout: 30_000 }).then(async () => (await status.innerText().catch(() => '')).trim(), () => ''),
      job?.waitFor({ timeout: 30_000 }).then(async () => (await job.innerText().catch(() => '')).replace(/\s+/g, ' ').trim(), () => ''),
    ]);
    console.log(`    status bar: ${seen[0] || '(gone before it was seen)'}; sidebar queue: ${seen[1] || '(gone before it was seen)'}`);
    if (seen[1]) await steps.shot('07-finetune-running');
    const compareFrame = (ctx.compare = await findFrameWith(page, COMPARE_SCORES, 150_000));
    for (const id of [byId(COMPARE.before), byId(COMPARE.after), byId(COMPARE.revealCanvas)]) {
      const drawn = await drawnState(compareFrame.locator(id));
      if (drawn !== 'ok') throw new Error(`${id}: ${drawn}`);
    }
    // The key set by what it was trained on (the file's first pair), its folder name in the tooltip.
    const title = (await compareFrame.locator(byId(COMPARE.title)).innerText()).trim();
    const folder = (await compareFrame.locator(byId(COMPARE.title)).getAttribute('title')) ?? '';
    if (!title.startsWith('Finetune on a red circle and a blue square +2 more · ') || !/^\d{8}-\d{6}-finetune-/.test(folder)) throw new Error(`the before/after title is "${title}" (tooltip "${folder}")`);
    console.log(`    title: ${title} (tooltip ${folder})`);
    const deltas = await compareFrame.locator(`${byId(COMPARE.scores)} td.${CLASS.delta}`).allInnerTexts();
    if (deltas.length === 0) throw new Error('no score deltas shown');
    console.log(`    deltas: ${deltas.join(' | ')}`);
    const verdicts = (await compareFrame.locator(byId(COMPARE.detect)).innerText()).replace(/\s+/g, ' ');
    console.log(`    detector: ${verdicts}`);
  });

  await steps.step('dragging across the split picture reveals the finetuned image', async () => {
    const compareFrame = ctx.compare;
    if (!compareFrame) throw new Error('no before/after frame');
    const canvas = compareFrame.locator(byId(COMPARE.revealCanvas));
    const box = await canvas.boundingBox();
    if (!box) throw new Error('the split picture has no box');
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    const value = Number(await compareFrame.locator(byId(COMPARE.revealSlider)).inputValue());
    if (!(value >= 25 && value <= 35)) throw new Error(`the reveal slider is at ${value} after dragging to 30 %`);
    await sleep(300);
    await steps.shot('08-before-after');
    await webviewShot(page, out, '08-before-after-view');
  });

  await steps.step('the sidebar lists the new key set; a run setting edited there goes into the front matter', async () => {
    const { sidebar } = ctx;
    if (!sidebar) throw new Error('no sidebar frame');
    await sidebar.locator(KEY_SET).first().waitFor({ timeout: 20_000 });
    console.log(`    key sets: ${(await sidebar.locator(KEY_SET).allInnerTexts()).map((t) => t.replace(/\s+/g, ' ')).join(' | ')}`);
    const stepsInput = sidebar.locator(settingInput('steps'));
    await stepsInput.fill('12');
    await stepsInput.press('Enter');
    await page.locator('.monaco-editor .view-line', { hasText: 'steps: 12' }).waitFor({ timeout: 10_000 });
    await sleep(300);
    await steps.shot('09-sidebar');
  });

  await steps.step('clicking a run in the history reopens it; a key set\'s View brings the before/after back', async () => {
    const { sidebar } = ctx;
    if (!sidebar) throw new Error('no sidebar frame');
    await sidebar.locator(HISTORY_RUN).first().click();
    const results = await findFrameWith(page, WEBVIEW_IMAGE, 20_000);
    await results.locator(`${byId(COMPARE.view)}[hidden]`).waitFor({ state: 'attached', timeout: 10_000 });
    const prompt = (await results.locator(byId(RUN.prompt)).innerText()).trim();
    if (prompt !== 'a red circle and a blue square') throw new Error(`the reopened run shows "${prompt}"`);
    await sidebar.locator(`${byId(SIDEBAR_ID.keySets)} vscode-button`, { hasText: 'View' }).first().click();
    const compare = await findFrameWith(page, COMPARE_SCORES, 20_000);
    // The split slider from the keyboard: End moves the split to the right edge (base image whole).
    await compare.locator(byId(COMPARE.revealSlider)).focus();
    await page.keyboard.press('End');
    const value = await compare.locator(byId(COMPARE.revealSlider)).inputValue();
    if (value !== '100') throw new Error(`the split slider is at ${value} after End`);
  });
}
