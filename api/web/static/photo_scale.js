// A phone's photo scaled to the size the service keeps (it would scale it anyway) before it is
// sent or queued: a 12-megapixel picture costs a few hundred kB of mobile data instead of several MB.
// Used by the citizens' form and the inspector's page.
'use strict';
window.zonemapSmallerPhoto = async function (file, maxSide, maxBytes) {
  const bitmap = await createImageBitmap(file, {imageOrientation: 'from-image'});
  const scale = Math.min(1, maxSide / Math.max(bitmap.width, bitmap.height));
  if (scale === 1 && file.size <= maxBytes) { bitmap.close(); return file; }
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const context = canvas.getContext('2d');
  context.fillStyle = '#ffffff';  // a transparent picture on white, as the service keeps it
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  const blob = await new Promise(resolve => canvas.toBlob(resolve, 'image/jpeg', 0.9));
  return blob ? new File([blob], file.name.replace(/\.[^.]*$/, '') + '.jpg', {type: 'image/jpeg'}) : file;
};
