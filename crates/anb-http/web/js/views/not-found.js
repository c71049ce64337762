// The page of an address the server or the app does not know (`<meta name="anb-page"
// content="not-found">`, or a path no screen has).

import { notFound, pageStyles } from './pages.js';

export async function render(main) {
  await pageStyles();
  notFound(main);
  return null;
}
