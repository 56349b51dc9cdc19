import { afterEach, describe, expect, it } from 'vitest';
import {
  COMMENT_LIMIT,
  commentMarker,
  fitComment,
  isMarkedComment,
  jobSummaryUrl,
  markedValue,
  readMarkedValue,
  upsertComment,
} from '../../src/github/pr-comment.ts';
import {
  ACTIONS_BOT,
  GitHubApiError,
  nextLink,
  writtenBy,
  type IssueComment,
  type IssueCommentsApi,
} from '../../src/github/api.ts';
import { clearSecrets, registerSecret } from '../../src/util/secrets.ts';

afterEach(() => clearSecrets());

describe('commentMarker', () => {
  it('is a hidden HTML comment naming the config and a short hash of the server', () => {
    const marker = commentMarker('dhis2-metadata.yml', 'https://dhis2.example.org');
    expect(marker).toMatch(/^<!-- dhis2-metadata:dry-run config=dhis2-metadata\.yml server=[0-9a-f]{16} -->$/);
    expect(marker).not.toContain('dhis2.example.org');
  });

  it('is the same for every spelling of one server and one config path', () => {
    const a = commentMarker('config/dhis2.yml', 'https://dhis2.example.org/dhis');
    for (const url of [
      'https://DHIS2.example.org/dhis/',
      'https://dhis2.example.org:443/dhis',
      'https://dhis2.example.org/dhis/api',
      ' https://dhis2.example.org/dhis// ',
    ]) {
      expect(commentMarker('config/dhis2.yml', url)).toBe(a);
    }
    expect(commentMarker('./config/dhis2.yml', 'https://dhis2.example.org/dhis')).toBe(a);
    expect(commentMarker('config\\dhis2.yml', 'https://dhis2.example.org/dhis')).toBe(a);
  });

  it('differs per config file and per server', () => {
    const base = commentMarker('a.yml', 'https://one.example.org');
    expect(commentMarker('b.yml', 'https://one.example.org')).not.toBe(base);
    expect(commentMarker('a.yml', 'https://two.example.org')).not.toBe(base);
    expect(commentMarker('a.yml', 'https://one.example.org/dhis')).not.toBe(base);
    expect(commentMarker('a.yml', 'http://one.example.org')).not.toBe(base);
    // One marker must not be a prefix of another's comment: `a.yml` vs `a.yml.bak`.
    const bak = commentMarker('a.yml.bak', 'https://one.example.org');
    expect(isMarkedComment(`${bak}\nbody`, base)).toBe(false);
  });

  it('holds no credentials and cannot be closed early by the config path', () => {
    const marker = commentMarker('x-->y <b>.yml', 'https://user:s3cretPass@dhis2.example.org');
    expect(marker).not.toContain('s3cretPass');
    expect(marker).not.toContain('user');
    expect(marker.indexOf('-->')).toBe(marker.length - 3);
    expect(marker).not.toContain('<b>');
    // Credentials do not change which comment is found.
    expect(marker).toBe(commentMarker('x-->y <b>.yml', 'https://dhis2.example.org'));
  });
});

describe('markedValue / readMarkedValue', () => {
  it('round-trips a value through a hidden line in a larger body', () => {
    const fingerprint = 'ab'.repeat(32);
    const body = `# Dry run\n\n${markedValue('fingerprint', fingerprint)}\n| a | b |\n`;
    expect(readMarkedValue(body, 'fingerprint')).toBe(fingerprint);
    expect(body).toContain(`<!-- dhis2-metadata:fingerprint=${fingerprint} -->`);
  });

  it('keeps keys apart and answers undefined for a missing key', () => {
    const body = [markedValue('fingerprint:IpHINAT79UW', 'one'), markedValue('fingerprint', 'two')].join('\n');
    expect(readMarkedValue(body, 'fingerprint')).toBe('two');
    expect(readMarkedValue(body, 'fingerprint:IpHINAT79UW')).toBe('one');
    expect(readMarkedValue(body, 'finger')).toBeUndefined();
    expect(readMarkedValue('no markers here', 'fingerprint')).toBeUndefined();
  });

  it('encodes values that would break the HTML comment', () => {
    const line = markedValue('note', 'a --> <script> b');
    expect(line.indexOf('-->')).toBe(line.length - 3);
    expect(line).not.toContain('<script>');
    expect(readMarkedValue(line, 'note')).toBe('a --> <script> b');
  });

  it('rejects keys that could not be read back', () => {
    expect(() => markedValue('bad key', 'x')).toThrow();
    expect(readMarkedValue(markedValue('k', 'v'), 'bad key')).toBeUndefined();
  });
});

describe('fitComment', () => {
  const marker = commentMarker('dhis2-metadata.yml', 'https://dhis2.example.org');
  const header = `${marker}\n## DHIS2 dry run`;
  const essential = '| status | created | updated |\n| --- | ---: | ---: |\n| OK | 12 | 345 |';

  function detailRows(n: number): string {
    return Array.from({ length: n }, (_, i) => `| dataElement | de${String(i).padStart(6, '0')} | updated |`).join(
      '\n',
    );
  }

  it('joins the parts unchanged when they fit', () => {
    const body = fitComment({ header, essential, detail: 'detail line', footer: 'footer' });
    expect(body).toBe(`${header}\n\n${essential}\n\ndetail line\n\nfooter`);
  });

  it('cuts a very large detail at a line boundary, keeps header, essential and footer, and points to the summary', () => {
    const detail = `<details><summary>Objects</summary>\n\n| type | id | action |\n| --- | --- | --- |\n${detailRows(5000)}\n\n</details>`;
    expect(detail.length).toBeGreaterThan(COMMENT_LIMIT * 2);
    const url = 'https://github.com/o/r/actions/runs/42';
    const body = fitComment({ header, essential, detail, footer: '_footer_', summaryUrl: url });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.length).toBeGreaterThan(COMMENT_LIMIT - 200); // used the room, not dropped everything
    expect(body.startsWith(header)).toBe(true);
    expect(body).toContain(essential);
    expect(body.endsWith('_footer_')).toBe(true);
    expect(body).toContain(`[job summary](${url})`);
    // The kept rows are whole rows, and the <details> opened in the detail is closed again.
    const rows = body.split('\n').filter((l) => l.startsWith('| dataElement'));
    expect(rows.length).toBeGreaterThan(100);
    for (const row of rows) expect(row).toMatch(/^\| dataElement \| de\d{6} \| updated \|$/);
    expect(body.match(/<details>/g)?.length).toBe(body.match(/<\/details>/g)?.length);
  });

  it('honours a smaller limit exactly', () => {
    for (const limit of [500, 1000, 4096]) {
      const body = fitComment({ header, essential, detail: detailRows(200) }, limit);
      expect(body.length).toBeLessThanOrEqual(limit);
      expect(body).toContain(essential);
    }
  });

  it('closes an open code fence and nested <details> left by the cut', () => {
    const detail = [
      '<details><summary>Import report</summary>',
      '',
      '<details><summary>Errors</summary>',
      '',
      '```json',
      ...Array.from({ length: 400 }, (_, i) => `{"line": ${i}, "message": "something went wrong here"}`),
      '```',
      '</details>',
      '</details>',
    ].join('\n');
    const body = fitComment({ header, essential, detail }, 5000);
    expect(body.length).toBeLessThanOrEqual(5000);
    const fences = body.split('\n').filter((l) => l.startsWith('```'));
    expect(fences).toEqual(['```json', '```']);
    expect(body.match(/<details>/g)?.length).toBe(2);
    expect(body.match(/<\/details>/g)?.length).toBe(2);
    // The fence closes before the details do.
    expect(body.lastIndexOf('```')).toBeLessThan(body.indexOf('</details>'));
    expect(body).toMatch(/Cut to fit GitHub's size limit/);
  });

  it('does not mistake a tilde fence or an inline code span for the open fence', () => {
    const detail = ['~~~~', ...Array.from({ length: 300 }, (_, i) => `line ${i} with \`\`\`inline\`\`\``), '~~~~'].join(
      '\n',
    );
    const body = fitComment({ header, essential, detail }, 2000);
    expect(body.length).toBeLessThanOrEqual(2000);
    expect(body.split('\n').filter((l) => l === '~~~~')).toHaveLength(2);
  });

  it('cuts the essential part only when it cannot fit whole, and still stays under the limit', () => {
    const hugeEssential = Array.from({ length: 3000 }, (_, i) => `- error ${i}: E4000 value is not valid`).join('\n');
    const body = fitComment({ header, essential: hugeEssential, detail: detailRows(100), footer: 'f' }, 10_000);
    expect(body.length).toBeLessThanOrEqual(10_000);
    expect(body.startsWith(header)).toBe(true);
    expect(body).toContain('- error 0: E4000');
    expect(body).not.toContain('| dataElement');
    expect(body).toMatch(/job summary/);
  });

  it('stays under the limit even with a single enormous line', () => {
    const body = fitComment({ header, essential, detail: 'x'.repeat(200_000) });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toContain(essential);
  });

  it('redacts secrets before cutting, but never inside its own hidden lines', () => {
    registerSecret('hunter2-password');
    registerSecret('abc'); // short, and also hex: must not corrupt the fingerprint line
    const fingerprint = 'abc'.repeat(21) + 'a';
    const detail = `${'row\n'.repeat(3000)}token hunter2-password end`;
    const body = fitComment({
      header: `${marker}\n${markedValue('fingerprint', fingerprint)}`,
      essential: 'login failed for abc with hunter2-password',
      detail,
    });
    expect(body).not.toContain('hunter2');
    expect(body).toContain('login failed for *** with ***');
    expect(readMarkedValue(body, 'fingerprint')).toBe(fingerprint);
    expect(body.startsWith(marker)).toBe(true);
  });

  it('links the job summary only when the URL is plain http(s)', () => {
    const tooLong = { header, essential, detail: detailRows(100) };
    expect(fitComment({ ...tooLong, summaryUrl: 'javascript:alert(1)' }, 1000)).not.toContain('javascript:');
    expect(fitComment({ ...tooLong, summaryUrl: 'https://x.example/a) [b](c' }, 1000)).not.toContain('[b]');
  });
});

describe('jobSummaryUrl', () => {
  it('links the run page when the context has what it needs', () => {
    expect(jobSummaryUrl({ serverUrl: 'https://github.com/', repository: 'o/r', runId: '77' })).toBe(
      'https://github.com/o/r/actions/runs/77',
    );
    expect(jobSummaryUrl({ serverUrl: 'https://github.com', repository: 'o/r' })).toBeUndefined();
  });
});

describe('nextLink', () => {
  it('finds rel="next" among the links GitHub sends', () => {
    const header =
      '<https://api.github.com/repositories/1/issues/2/comments?page=1>; rel="prev", ' +
      '<https://api.github.com/repositories/1/issues/2/comments?page=3>; rel="next", ' +
      '<https://api.github.com/repositories/1/issues/2/comments?page=9>; rel="last"';
    expect(nextLink(header)).toBe('https://api.github.com/repositories/1/issues/2/comments?page=3');
    expect(nextLink('<https://x/a?page=9>; rel="last"')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});

/** An in-memory IssueCommentsApi, to test upsertComment's decisions without HTTP. */
const BOT = { author: 'github-actions[bot]', authorType: 'Bot' };

function fakeApi(initial: (string | IssueComment)[] = []) {
  const comments: IssueComment[] = initial.map((c, i) => (typeof c === 'string' ? { id: i + 1, body: c, ...BOT } : c));
  const calls: string[] = [];
  let failCreate = 0;
  let createLands = false;
  const api: IssueCommentsApi = {
    identity: async () => ACTIONS_BOT,
    async *issueComments() {
      calls.push('list');
      for (const c of comments) yield { ...c };
    },
    async createIssueComment(_issue, body) {
      calls.push('create');
      if (failCreate > 0) {
        failCreate--;
        if (createLands) comments.push({ id: comments.length + 1, body, ...BOT });
        throw new GitHubApiError('could not create: connection reset', 'network');
      }
      const c = { id: comments.length + 1, body, ...BOT };
      comments.push(c);
      return { ...c };
    },
    async updateIssueComment(id, body) {
      calls.push(`update ${id}`);
      const c = comments.find((x) => x.id === id);
      if (!c) throw new GitHubApiError('404', 'not-found', 404);
      c.body = body;
      return { ...c };
    },
  };
  return {
    api,
    comments,
    calls,
    failCreate(n: number, lands: boolean) {
      failCreate = n;
      createLands = lands;
    },
  };
}

describe('upsertComment decisions', () => {
  const marker = commentMarker('a.yml', 'https://one.example.org');

  it('creates, then updates, then leaves an identical body alone', async () => {
    const fake = fakeApi(['unrelated']);
    const first = await upsertComment(fake.api, 1, marker, 'v1');
    expect(first.action).toBe('created');
    expect(fake.comments[1]!.body).toBe(`${marker}\nv1`);
    const second = await upsertComment(fake.api, 1, marker, 'v2');
    expect(second).toMatchObject({ id: first.id, action: 'updated' });
    const third = await upsertComment(fake.api, 1, marker, 'v2');
    expect(third).toMatchObject({ id: first.id, action: 'unchanged' });
    expect(fake.calls.filter((c) => c.startsWith('update'))).toHaveLength(1);
    expect(fake.comments.map((c) => c.body)).toEqual(['unrelated', `${marker}\nv2`]);
  });

  it("never edits a person's comment that carries the marker: writes its own next to it", async () => {
    const copied = `${marker}\nfingerprint copied from another pull request`;
    const fake = fakeApi([{ id: 1, body: copied, author: 'mallory', authorType: 'User' }]);
    const result = await upsertComment(fake.api, 1, marker, 'body');
    expect(result).toMatchObject({ id: 2, action: 'created' });
    expect(fake.comments[0]!.body).toBe(copied);
    expect(fake.calls.filter((c) => c.startsWith('update'))).toEqual([]);
  });

  it("with a personal token, edits only that user's comment, not the bot's nor another person's", async () => {
    const fake = fakeApi([
      `${marker}\nby the bot`,
      { id: 2, body: `${marker}\nby mallory`, author: 'mallory', authorType: 'User' },
      { id: 3, body: `${marker}\nby the release manager`, author: 'Release-Manager', authorType: 'User' },
    ]);
    const api = { ...fake.api, identity: async () => ({ login: 'release-manager', type: 'User' as const }) };
    const result = await upsertComment(api, 1, marker, 'new');
    expect(result).toMatchObject({ id: 3, action: 'updated' });
    expect(fake.comments.map((c) => c.body)).toEqual([
      `${marker}\nby the bot`,
      `${marker}\nby mallory`,
      `${marker}\nnew`,
    ]);
  });

  it('writtenBy: a bot by its name with or without [bot], only as a Bot; a user only as a user', () => {
    const bot = { author: 'github-actions[bot]', authorType: 'Bot' };
    expect(writtenBy(bot, ACTIONS_BOT)).toBe(true);
    expect(writtenBy(bot, { login: 'github-actions', type: 'Bot' })).toBe(true);
    expect(writtenBy({ author: 'github-actions', authorType: 'User' }, ACTIONS_BOT)).toBe(false);
    expect(writtenBy({ author: 'other-app[bot]', authorType: 'Bot' }, ACTIONS_BOT)).toBe(false);
    expect(writtenBy(bot, { login: 'github-actions', type: 'User' })).toBe(false);
    expect(writtenBy({ author: 'Alice', authorType: 'User' }, { login: 'alice', type: 'User' })).toBe(true);
    expect(writtenBy({}, ACTIONS_BOT)).toBe(false);
  });

  it('ignores a comment that only quotes the marker further down', async () => {
    const fake = fakeApi([`> someone quoted\n> ${marker}\n`]);
    const result = await upsertComment(fake.api, 1, marker, 'body');
    expect(result.action).toBe('created');
    expect(fake.comments[0]!.body).toBe(`> someone quoted\n> ${marker}\n`);
  });

  it('does not duplicate the comment when a create failed in flight but landed', async () => {
    const fake = fakeApi();
    fake.failCreate(1, true);
    const result = await upsertComment(fake.api, 1, marker, 'body');
    expect(fake.comments).toHaveLength(1);
    expect(result).toMatchObject({ id: 1, action: 'unchanged' });
  });

  it('creates again once when a create failed in flight and did not land', async () => {
    const fake = fakeApi();
    fake.failCreate(1, false);
    const result = await upsertComment(fake.api, 1, marker, 'body');
    expect(result.action).toBe('created');
    expect(fake.comments).toHaveLength(1);
    expect(fake.calls).toEqual(['list', 'create', 'list', 'create']);
  });

  it('writes the comment afresh when it was deleted between listing and editing', async () => {
    const fake = fakeApi();
    const ghost: IssueCommentsApi = {
      ...fake.api,
      async *issueComments() {
        yield { id: 77, body: `${marker}\nold`, ...BOT }; // listed, but gone by the time we edit it
      },
    };
    const result = await upsertComment(ghost, 1, marker, 'new');
    expect(result.action).toBe('created');
    expect(fake.calls).toEqual(['update 77', 'create']);
    expect(fake.comments.map((c) => c.body)).toEqual([`${marker}\nnew`]);
  });

  it('passes other failures through untouched', async () => {
    const fake = fakeApi([`${marker}\nold`]);
    const denied: IssueCommentsApi = {
      ...fake.api,
      updateIssueComment: async () => {
        throw new GitHubApiError('GitHub refused (403)', 'permission', 403);
      },
    };
    await expect(upsertComment(denied, 1, marker, 'new')).rejects.toMatchObject({ reason: 'permission' });
    expect(fake.calls).not.toContain('create');
  });

  it('redacts the body but keeps the marker intact', async () => {
    registerSecret('a.yml'); // absurd, but a short secret must never break the marker
    registerSecret('p4ssw0rd!');
    const fake = fakeApi();
    await upsertComment(fake.api, 1, marker, 'failed with p4ssw0rd! for a.yml');
    expect(fake.comments[0]!.body).toBe(`${marker}\nfailed with *** for ***`);
    // The next run still finds it.
    const again = await upsertComment(fake.api, 1, marker, 'failed with p4ssw0rd! for a.yml');
    expect(again.action).toBe('unchanged');
  });

  it('cuts a body the caller did not fit', async () => {
    const fake = fakeApi();
    await upsertComment(fake.api, 1, marker, 'row\n'.repeat(40_000));
    expect(fake.comments[0]!.body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(fake.comments[0]!.body.startsWith(marker)).toBe(true);
  });
});
