/**
 * Every ready lesson end to end (Chromium), driven only from the page: the spec reads the lesson
 * list from the index, walks each lesson step by step, and answers each question with the live
 * value the lab shows ("Show the live value", read from the engine's state, never hard-coded):
 * first a wrong answer, which the lab must refuse, then the live one, which it must accept. The
 * key step of each lesson is saved to test-results/lesson-screenshots/<n>-<id>.png. Also: deep
 * links, the index (all ten lessons available), progress kept across a reload, and free play.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { activeStackTab, test } from './helpers.ts';

const SHOTS = 'test-results/lesson-screenshots';

/** The ids and numbers of the lessons the index offers (ready ones) and lists as coming. */
async function indexedLessons(page: Page): Promise<{ ready: { id: string; number: string }[]; coming: string[] }> {
  await page.goto('/');
  const entries = page.getByTestId('lessons-index').locator('[data-testid^="lesson-entry-"]');
  await expect(entries).toHaveCount(10);
  const all = await entries.evaluateAll((els) =>
    els.map((e) => ({ id: e.getAttribute('data-testid')!.replace('lesson-entry-', ''), status: e.getAttribute('data-status'), number: e.querySelector('.lesson-number')?.textContent ?? '' })),
  );
  return { ready: all.filter((e) => e.status !== 'coming').map(({ id, number }) => ({ id, number })), coming: all.filter((e) => e.status === 'coming').map((e) => e.id) };
}

async function readyStep(player: Locator, index: number): Promise<Locator> {
  const step = player.getByTestId('lesson-step');
  await expect(step).toHaveAttribute('data-step', String(index));
  await expect(step).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
  return step;
}

/** Answers the step's question wrong (must be refused) and then with the live value (must be accepted). */
async function answer(step: Locator): Promise<string> {
  const question = step.getByTestId('lesson-question');
  await question.getByRole('button', { name: 'Show the live value' }).click();
  const live = ((await question.getByTestId('lesson-live-value').textContent()) ?? '').trim();
  expect(live, 'the live value').not.toBe('');
  const verdict = question.getByTestId('lesson-verdict');
  if ((await question.getAttribute('data-kind')) === 'choice') {
    const options = await question.getByRole('radio').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    expect(options).toContain(live);
    await question.getByRole('radio', { name: options.find((o) => o !== live)!, exact: true }).check();
    await question.getByRole('button', { name: 'Check' }).click();
    await expect(verdict).toHaveAttribute('data-verdict', 'wrong');
    await question.getByRole('radio', { name: live, exact: true }).check();
  } else {
    const value = Number(live);
    expect(Number.isFinite(value), `live value ${live} is a number`).toBe(true);
    const box = question.getByLabel('Your answer');
    await box.fill(String(value * 3 + 1000));
    await question.getByRole('button', { name: 'Check' }).click();
    await expect(verdict).toHaveAttribute('data-verdict', 'wrong');
    await box.fill(live);
  }
  await question.getByRole('button', { name: 'Check' }).click();
  await expect(verdict).toHaveAttribute('data-verdict', 'right');
  return live;
}

/**
 * Where the lab's own panels show the same live value, it must agree with the one the lesson
 * checked against: the controller's fio-style result, and the reservation view.
 */
const CROSS_CHECKS: Record<string, (page: Page, step: number, live: string) => Promise<void>> = {
  'queue-depth': async (page, step, live) => {
    if (step !== 0 && step !== 2) return;
    const text = (await page.getByTestId('panel-controller').textContent()) ?? '';
    const m = /IOPS=([\d.]+)(k?)/.exec(text);
    expect(m, 'the controller shows IOPS').not.toBeNull();
    const shown = Number(m![1]) * (m![2] === 'k' ? 1000 : 1);
    expect(Math.abs(shown - Number(live)) / Number(live)).toBeLessThan(0.01);
  },
  remote: async (page, step, live) => {
    // The stack panel's HTTP statistics show the same request count once its poll catches up.
    if (step === 0) await expect(page.getByTestId('url-stat').and(page.locator('[data-stat="requests"]')).first()).toHaveAttribute('data-value', live);
  },
  'block-jobs': async (page, step, live) => {
    // The lesson's own view of its mirror, polled from the worker, agrees with what was checked.
    const job = page.getByTestId('lesson-job-state');
    if (step === 1) {
      await expect(job).toHaveAttribute('data-state', 'ready');
      await expect(job.getByTestId('job-state-at-ready')).toHaveAttribute('data-done', live);
    }
    if (step === 3) await expect(job.getByTestId('job-state-at-ready')).toHaveAttribute('data-total', String(Number(await job.getByTestId('job-state-at-ready').getAttribute('data-done')) + Number(live)));
    if (step === 4) await expect(job).toHaveAttribute('data-state', live);
  },
  reservations: async (page, step, live) => {
    if ([0, 1, 4].includes(step)) await expect(page.getByTestId('pr-holder')).toHaveText(live === 'nobody' ? 'none' : new RegExp(`^${live},`));
    else await expect(page.getByTestId('pr-last')).toContainText(live === 'ok' ? 'done' : live);
  },
};

/** How many questions each lesson asks (each one is answered wrong, then right, from the live value). */
const QUESTIONS: Record<string, number> = { blocks: 4, cow: 5, formats: 4, chains: 4, 'queue-depth': 5, remote: 5, encryption: 5, striping: 3, reservations: 6, 'block-jobs': 6 };

/** What the student is told to look at on a lesson's key step, set up before its screenshot. */
const BEFORE_SHOT: Record<string, (page: Page) => Promise<void>> = {
  encryption: async (page) => {
    const hex = page.getByTestId('panel-hex');
    await hex.getByLabel('Sector number').fill('8');
    await hex.getByRole('button', { name: 'Show' }).click();
    await hex.getByRole('radio', { name: /ciphertext/ }).check();
    await expect(hex).toContainText('as stored below the encryption, at inner sector 8');
  },
};

test('the index lists ten lessons, all of them available, each a link', async ({ page }) => {
  const { ready, coming } = await indexedLessons(page);
  expect(ready.map((l) => l.id)).toEqual(['blocks', 'cow', 'formats', 'chains', 'queue-depth', 'remote', 'encryption', 'striping', 'reservations', 'block-jobs']);
  expect(ready.map((l) => l.number)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  expect(coming).toEqual([]);
  await page.getByTestId('lessons-index').locator('summary').click();
  await expect(page.getByTestId('lesson-entry-encryption').getByRole('link')).toHaveCount(1);
  await page.getByTestId('lesson-entry-cow').getByRole('link', { name: 'Copy-on-write' }).click();
  await expect(page.getByTestId('lesson-player')).toHaveAttribute('data-lesson', 'cow');
  expect(new URL(page.url()).searchParams.get('lesson')).toBe('cow');
});

for (const { id, title } of [
  { id: 'blocks', title: '1 blocks and sectors' },
  { id: 'cow', title: '2 copy-on-write' },
  { id: 'formats', title: '3 image formats' },
  { id: 'chains', title: '4 differencing chains' },
  { id: 'queue-depth', title: '5 queue depth and latency' },
  { id: 'remote', title: '6 remote disks' },
  { id: 'encryption', title: '7 encryption at rest' },
  { id: 'striping', title: '8 striping' },
  { id: 'reservations', title: '9 persistent reservations' },
  { id: 'block-jobs', title: '10 block jobs' },
]) {
  test(`lesson ${title} runs end to end and checks answers against the live lab`, async ({ page }) => {
    test.setTimeout(180_000);
    await page.goto(`/?lesson=${id}`);
    const player = page.getByTestId('lesson-player');
    await expect(player).toHaveAttribute('data-lesson', id);
    const steps = Number(await player.getAttribute('data-steps'));
    expect(steps).toBeGreaterThan(1);
    let shot = false;
    let answered = 0;
    for (let i = 0; i < steps; i++) {
      const step = await readyStep(player, i);
      if ((await step.getByTestId('lesson-question').count()) > 0) {
        // Answer first: an optional call (`f?.(await x)`) would skip evaluating its argument.
        const live = await answer(step);
        answered++;
        await CROSS_CHECKS[id]?.(page, i, live);
      }
      if ((await step.getAttribute('data-key')) === 'true') {
        await BEFORE_SHOT[id]?.(page);
        await page.screenshot({ path: `${SHOTS}/${title.split(' ')[0]!.padStart(2, '0')}-${id}.png`, fullPage: true });
        shot = true;
      }
      await player.getByRole('button', { name: i === steps - 1 ? 'Finish' : 'Next' }).click();
    }
    expect(shot, 'the lesson has a key step to screenshot').toBe(true);
    expect(answered, 'questions answered wrong, then right').toBe(QUESTIONS[id]);
    await expect(player).toHaveCount(0);
    await expect(page.getByTestId(`lesson-entry-${id}`)).toHaveAttribute('data-status', 'done');
  });
}

test('progress survives a reload: a deep link resumes at the step reached', async ({ page }) => {
  await page.goto('/?lesson=striping');
  const player = page.getByTestId('lesson-player');
  await readyStep(player, 0);
  await player.getByRole('button', { name: 'Next' }).click();
  await readyStep(player, 1);
  await page.reload();
  await readyStep(page.getByTestId('lesson-player'), 1);
  // Back replays the lesson to step 1's state: the stripe is reopened with only the 20 KiB write.
  await player.getByRole('button', { name: 'Back' }).click();
  const first = await readyStep(player, 0);
  await first.getByRole('button', { name: 'Show the live value' }).click();
  await expect(first.getByTestId('lesson-live-value')).toHaveText('member 2');
  await page.getByTestId('lesson-player').getByRole('button', { name: 'Close lesson' }).click();
  await expect(page.getByTestId(`lesson-entry-striping`)).toHaveAttribute('data-status', 'started');
});

test('free play leaves the student in the lab with the lesson stack', async ({ page }) => {
  await page.goto('/?lesson=chains');
  const player = page.getByTestId('lesson-player');
  await readyStep(player, 0);
  await player.getByRole('button', { name: 'Free play' }).click();
  await expect(player).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('lesson')).toBeNull();
  await expect(activeStackTab(page)).toHaveAttribute('data-name', 'chain');
  await expect(page.getByTestId('panel-stack')).toContainText('mid.qcow2');
});

test('closing the block-jobs lesson deletes the image its completed mirror switched the stack to', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto('/?lesson=block-jobs');
  const player = page.getByTestId('lesson-player');
  // Step 5 completes the mirror: the stack then runs on the image (a cancelled mirror deletes its own).
  for (let i = 0; i < 4; i++) {
    await readyStep(player, i);
    await player.getByRole('button', { name: 'Next' }).click();
  }
  await readyStep(player, 4);
  await expect(page.getByTestId('lesson-job-state')).toHaveAttribute('data-state', 'completed');
  const library = page.getByTestId('panel-library');
  await library.getByRole('button', { name: 'Refresh' }).click();
  await expect(library).toContainText(/lesson-mirror-[0-9a-z]+\.img/);
  await player.getByRole('button', { name: 'Close lesson' }).click();
  await expect(player).toHaveCount(0);
  await expect(async () => {
    await library.getByRole('button', { name: 'Refresh' }).click();
    await expect(library).not.toContainText('lesson-mirror-', { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
});
