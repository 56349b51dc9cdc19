/** Who wrote a comment, and who last changed it: what makes a comment the tool's own (and a review). */
import type { IssueComment } from './api-answers.ts';

/** Who a token writes as: `github-actions[bot]` (type Bot) for the workflow's GITHUB_TOKEN, else its user. */
export interface Identity {
  login: string;
  type: 'Bot' | 'User';
}

/** The GITHUB_TOKEN's identity, and the fallback when a token cannot tell who it is. */
export const ACTIONS_BOT: Identity = { login: 'github-actions[bot]', type: 'Bot' };

/**
 * Did `who` write this comment? Bots are listed by REST as `name[bot]` of type Bot but named `name` by
 * GraphQL, so a bot matches on its name without the suffix and only as a Bot; a user only as a non-bot.
 */
export function writtenBy(comment: Pick<IssueComment, 'author' | 'authorType'>, who: Identity): boolean {
  return sameActor(comment.author, comment.authorType, who);
}

/**
 * Is the body what `who` wrote? It wrote the comment, and nobody else edited it since: never edited, or last
 * edited by `who` (its own updates, which replace the whole body). GitHub lets anyone with write access edit any
 * comment, the bot's included, keeping the bot as its author: only GraphQL's `editor` tells who changed it.
 */
export function bodyWrittenBy(comment: IssueComment, who: Identity): boolean {
  if (!writtenBy(comment, who)) return false;
  if (comment.lastEditedAt === undefined) return true;
  return comment.editor !== undefined && sameActor(comment.editor.login, comment.editor.type, who);
}

function sameActor(login: string | undefined, type: string | undefined, who: Identity): boolean {
  if (!login) return false;
  const base = (l: string) => l.toLowerCase().replace(/\[bot\]$/, '');
  const isBot = who.type === 'Bot' || /\[bot\]$/i.test(who.login);
  if (isBot) return type === 'Bot' && base(login) === base(who.login);
  return type !== 'Bot' && login.toLowerCase() === who.login.toLowerCase();
}
