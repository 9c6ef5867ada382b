// Writes examples/demo.jsonl: 1,000 synthetic support tickets to classify (deterministic, no randomness).
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const products = ['billing page', 'mobile app', 'export to CSV', 'single sign-on', 'search', 'dashboard', 'API keys'];
const problems = ['is very slow', 'shows an error', 'logs me out', 'charges twice', 'is missing data', 'crashes on start'];
const moods = ['Please help.', 'This is urgent for our team.', 'Not a big deal, just curious.', 'Third time I write about this!'];

const lines: string[] = [];
for (let i = 0; i < 1_000; i++) {
  const ticket = `The ${products[i % products.length]} ${problems[(i * 5) % problems.length]} since yesterday. ${moods[(i * 3) % moods.length]}`;
  lines.push(
    JSON.stringify({
      custom_id: `ticket-${String(i + 1).padStart(4, '0')}`,
      params: {
        model: 'claude-haiku-5-5',
        max_tokens: 64,
        system: 'You triage customer support tickets. Answer with one word: billing, bug, access or question.',
        messages: [{ role: 'user', content: ticket }],
      },
    }),
  );
}
writeFileSync(path.join(__dirname, '..', 'examples', 'demo.jsonl'), lines.join('\n') + '\n');
