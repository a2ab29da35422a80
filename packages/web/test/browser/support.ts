/** Browser-test support: the console built, a real `wattflow start` stack, and Debian's Chromium driven by playwright-core. */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

const webDir = fileURLToPath(new URL("../../", import.meta.url));
const repoDir = join(webDir, "..", "..");
const bin = join(repoDir, "packages", "cli", "bin", "wattflow.mjs");
export const screenshotDir = join(webDir, "test-results", "screenshots");

/** Builds packages/web/dist (a couple of seconds), so the stack serves the current console. */
export function buildConsole(): void {
  const result = spawnSync("npm", ["run", "build", "-w", "packages/web"], { cwd: repoDir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`console build failed:\n${result.stdout}\n${result.stderr}`);
}

export type Demo = {
  apiUrl: string;
  organizationId: string;
  factoryId: string;
  otherFactoryId: string;
  deviceId: string;
  /** The demo gateway's token, for posting readings through POST /v1/ingest. */
  deviceToken: string;
  meterIds: string[];
  apiToken: string;
  adminToken: string;
  lines: string[];
  user: { email: string; password: string };
  /** The stack's local Kinesis endpoint, for putting records on the stream as a gateway does. */
  kinesis: { endpoint: string; stream: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
};

export type Stack = { apiUrl: string; dataDir: string; output(): string; stop(): Promise<void> };

/**
 * `wattflow start` on free ports in `dataDir` (a fresh temporary folder by default); resolves once
 * /health is 200. The runner's DATABASE_URL is not inherited (stacks would share a database): pass `databaseUrl`.
 */
export async function startStack(args: string[] = [], dataDir = mkdtempSync(join(tmpdir(), "wattflow-web-")), databaseUrl?: string): Promise<Stack> {
  // A test stack loads three days of demo history, not the year `wattflow start` loads for a user.
  const { DATABASE_URL: _ignored, VITEST: _vitest, ...env } = { WATTFLOW_DEMO_HISTORY_DAYS: "3", ...process.env } as NodeJS.ProcessEnv;
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [bin, "start", "--data", dataDir, "--port", "0", "--kinesis-port", "0", ...args], {
    env: { ...env, WATTFLOW_NO_CONSOLE_BUILD: "1", ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk) => {
    output += chunk;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const began = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wattflow start exited with ${child.exitCode}:\n${output}`);
    const apiUrl = /API\s+(http:\/\/\S+)/.exec(output)?.[1];
    if (apiUrl && (await fetch(`${apiUrl}/health`).catch(() => undefined))?.status === 200) return { apiUrl, dataDir, output: () => output, stop };
    if (Date.now() - began > 120_000) {
      await stop();
      throw new Error(`the stack was not healthy within 120 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function readDemo(stack: Stack): Demo {
  return JSON.parse(readFileSync(join(stack.dataDir, "demo.json"), "utf8")) as Demo;
}

/** Debian's Chromium (CHROMIUM_PATH overrides): Playwright cannot download its own browsers here. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/**
 * Saves a full-page screenshot as a test artifact (packages/web/test-results/screenshots, or WATTFLOW_SCREENS when set,
 * for the screenshots people look at).
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = artifactPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Where a test artifact named `file` goes (screenshots, measured figures): WATTFLOW_SCREENS or test-results/screenshots, created. */
export function artifactPath(file: string): string {
  const dir = process.env.WATTFLOW_SCREENS || screenshotDir;
  mkdirSync(dir, { recursive: true });
  return join(dir, file);
}

/** The console's words are es-MX unless told: tests that read words choose the language, as a person's stored choice. */
export async function chooseLanguage(context: BrowserContext, language: "es-MX" | "en"): Promise<void> {
  await context.addInitScript((chosen) => localStorage.setItem("wattflow.language", chosen), language);
}

/** Signs in on the sign-in page in the page's language (es-MX labels unless `en`); waits `timeout` ms for the first page (Playwright's 30 s unless told). */
export async function signIn(
  page: Page,
  apiUrl: string,
  user: { email: string; password: string },
  language: "es-MX" | "en" = "es-MX",
  timeout?: number,
): Promise<void> {
  const words =
    language === "en"
      ? { email: "Email", password: "Password", signIn: "Sign in" }
      : { email: "Correo electrónico", password: "Contraseña", signIn: "Iniciar sesión" };
  await page.goto(apiUrl);
  await page.getByLabel(words.email).fill(user.email);
  await page.getByLabel(words.password).fill(user.password);
  await page.getByRole("button", { name: words.signIn }).click();
  await page.locator("main h1").first().waitFor({ timeout });
}

/**
 * Signs in from the page through POST /v1/session, skipping the sign-in form, so the session cookie is the console's own;
 * answers the status (200 when signed in).
 */
export async function signInThroughApi(page: Page, apiUrl: string, user: { email: string; password: string }): Promise<number> {
  await page.goto(apiUrl);
  return page.evaluate(
    async (user) => (await fetch("/v1/session", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(user) })).status,
    user,
  );
}

/** A console under test: its stack and demo, Chromium, and one watched page with its context. */
export type ConsoleUnderTest = {
  stack: Stack;
  /** The stack's demo.json, read when first asked for (a stack started with `--no-demo` has none). */
  readonly demo: Demo;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** The uncaught errors and console errors of every page `newPage` opened, the first one's included (see `watchPage`). */
  problems: string[];
  /** Another watched page in a context of its own: `width` × 900 (1440 unless told), `language` stored as the person's choice. */
  newPage(options?: { language?: "es-MX" | "en"; width?: number }): Promise<Page>;
  /** Closes Chromium, then stops the stack and removes its data folder. */
  close(): Promise<void>;
};

/**
 * What `useConsole` starts: `wattflow start` with `args` in `dataDir` on `databaseUrl` (see `startStack`), and the first
 * page's `language` (stored as the person's choice; none unless given) and browser `locale` (Chromium's own unless given).
 */
export type ConsoleOptions = { language?: "es-MX" | "en"; locale?: string; dataDir?: string; databaseUrl?: string };

/**
 * The console for the tests of the enclosing `describe`: before them, builds the console, starts the stack and opens
 * Chromium with one 1440 × 900 page watched by `watchPage`; after them, closes it all, so a test file does not repeat
 * the hooks. The object is filled in when the hook runs. `options` may be a function, called in that hook, for what an
 * earlier `beforeAll` of the file prepared (a seeded data folder); the file's own `afterAll` runs after this one's.
 * A test fails on a console error where it checks `problems`, as each file chooses.
 * @example const ui = useConsole(["--no-demo-traffic"]); it("…", async () => { const { page, stack } = ui; … })
 */
export function useConsole(args: string[], options: ConsoleOptions | (() => ConsoleOptions) = {}): ConsoleUnderTest {
  const current = {} as ConsoleUnderTest;
  beforeAll(async () => {
    // Property by property: `demo` stays a getter, read on first use.
    Object.defineProperties(current, Object.getOwnPropertyDescriptors(await openConsole(args, typeof options === "function" ? options() : options)));
  });
  afterAll(async () => current.close?.());
  return current;
}

/** Opens what `useConsole` describes; if anything fails after the stack started, what was started is closed and the error rethrown. */
async function openConsole(args: string[], options: ConsoleOptions): Promise<ConsoleUnderTest> {
  buildConsole();
  const stack = await startStack(args, options.dataDir, options.databaseUrl);
  let browser: Browser | undefined;
  try {
    const opened = await launchBrowser();
    browser = opened;
    const problems: string[] = [];
    const newContext = async (language: "es-MX" | "en" | undefined, width: number) => {
      const context = await opened.newContext({ viewport: { width, height: 900 }, ...(options.locale ? { locale: options.locale } : {}) });
      if (language) await chooseLanguage(context, language);
      return context;
    };
    const newPage: ConsoleUnderTest["newPage"] = async ({ language, width = 1440 } = {}) => {
      const page = await (await newContext(language, width)).newPage();
      watchPage(page, problems);
      return page;
    };
    const context = await newContext(options.language, 1440);
    const page = await context.newPage();
    watchPage(page, problems);
    let demo: Demo | undefined;
    return {
      stack,
      get demo() {
        demo ??= readDemo(stack);
        return demo;
      },
      browser: opened,
      context,
      page,
      problems,
      newPage,
      close: async () => {
        await opened.close();
        await stack.stop();
      },
    };
  } catch (error) {
    await browser?.close();
    await stack.stop();
    throw error;
  }
}

/** Collects the page's uncaught errors and console errors into `problems`, so a test that checks it fails on a broken page that looks fine. */
function watchPage(page: Page, problems: string[]): void {
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // 401 on the first session check is how the console learns nobody is signed in.
    if (message.type() === "error" && !/status of 401/.test(message.text())) problems.push(`console error: ${message.text()}`);
  });
}
