import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * GET one of the server extension's endpoints (routes.py) with Jupyter's authentication; the JSON answer, or an
 * Error carrying the server's one-sentence message.
 */
export async function requestAPI<T>(
  endPoint: string,
  params: Record<string, string>
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const query = new URLSearchParams(params).toString();
  const url =
    URLExt.join(settings.baseUrl, 'jupyterlab-workbench', endPoint) +
    (query ? `?${query}` : '');
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, {}, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`Not a JSON answer from ${endPoint} (${response.status})`);
  }
  if (!response.ok) {
    throw new Error(data.message || `${endPoint}: HTTP ${response.status}`);
  }
  return data as T;
}
